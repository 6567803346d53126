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
  const spec: JobSpec = specOf(n);
  const clip = n.clip ? { frames: n.clip.frames, fps: n.clip.fps, duration: n.clip.duration } : {};
  return { v: 1, id: newJobId(), status: 'queued', ...spec, inputs: inputsOf(n), progress: { iter: 0, iters: stepsOf(spec, n.clip?.frames) }, loss: null, lossHistory: [], createdAt, ...clip };
}

function specOf(n: NewJob): JobSpec {
  switch (n.mode) {
    case 'fast':
      return { mode: 'fast', params: n.params };
    case 'audio':
      return { mode: 'audio', params: n.params };
    case 'video':
      return { mode: 'video', params: n.params };
    default:
      return { mode: 'gatys', params: n.params };
  }
}

/** The progress steps of a job: its iterations (a sound job's L-BFGS and then Griffin-Lim ones; 1 for fast; a video's frames). */
export function stepsOf(spec: JobSpec, frames = 1): number {
  switch (spec.mode) {
    case 'fast':
      return 1;
    case 'video':
      return frames;
    case 'audio':
      return spec.params.iters + spec.params.gl_iters;
    default:
      return spec.params.iters * spec.params.scales;
  }
}
