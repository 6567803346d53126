// What every queue backend stores of a submitted job: its inputs record (stored names, client names,
// masks) and the list of its uploaded files, in one place for the embedded and the Redis queue.
import type { JobInputs } from './jobs.js';
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
