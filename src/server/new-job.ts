// What every queue backend stores of a submitted job: its inputs record (stored names, client names,
// masks) and the list of its uploaded files, in one place for the embedded and the Redis queue.
import { newJobId, type JobInputs, type JobRecord, type JobSpec } from './jobs.js';
import type { NewJob, UploadedFile } from './queue.js';

/** The inputs record of a new job (file names inside its storage, and the names the client gave). */
export function inputsOf(n: NewJob): JobInputs {
  const m = n.masks;
  return {
    content: n.content.name,
    styles: n.styles.map((s) => s.name),
    contentName: n.content.clientName,
    styleNames: n.styles.map((s) => s.clientName ?? s.name),
    ...(m?.mask ? { mask: m.mask.name } : {}),
    ...(m?.styleMasks?.length ? { styleMasks: m.styleMasks.map((f) => f.name) } : {}),
    ...(m?.styleRegions?.length ? { styleRegions: m.styleRegions.map((f) => f.name) } : {}),
  };
}

/** Every uploaded file of a new job: content, styles, then masks. */
export function uploadsOf(n: NewJob): UploadedFile[] {
  const m = n.masks;
  return [n.content, ...n.styles, ...(m?.mask ? [m.mask] : []), ...(m?.styleMasks ?? []), ...(m?.styleRegions ?? [])];
}

/** The record of a new queued job (created at `createdAt`). */
export function newJobRecord(n: NewJob, createdAt: string): JobRecord {
  // mode and params copied as one keyed pair (two separate copies would lose their correlation in the types)
  const spec: JobSpec = n.mode === 'fast' ? { mode: 'fast', params: n.params } : n.mode === 'audio' ? { mode: 'audio', params: n.params } : { mode: 'gatys', params: n.params };
  return { v: 1, id: newJobId(), status: 'queued', ...spec, inputs: inputsOf(n), progress: { iter: 0, iters: stepsOf(spec) }, loss: null, lossHistory: [], createdAt };
}

/** The progress steps of a job: its iterations (a sound job's L-BFGS and then Griffin-Lim ones; 1 for fast). */
export function stepsOf(spec: JobSpec): number {
  switch (spec.mode) {
    case 'fast':
      return 1;
    case 'audio':
      return spec.params.iters + spec.params.gl_iters;
    default:
      return spec.params.iters * spec.params.scales;
  }
}
