// What both queue backends do with a finished run: store its result (a PNG, or a sound job's WAV and
// spectrogram sheet, a video's MP4) under the job's names, then mark the record done with the run's figures.
import { resultFileOf, type JobRecord, type VideoProgress } from './jobs.js';
import type { JobStore, RunOutcome } from './queue.js';

/** Writes the result file (and any extra files) of a run. */
export async function storeOutcome(store: Pick<JobStore, 'writeFile'>, job: JobRecord, outcome: RunOutcome): Promise<void> {
  await store.writeFile(job.id, resultFileOf(job.mode), outcome.result);
  for (const f of outcome.extra ?? []) await store.writeFile(job.id, f.name, f.data);
}

/** The record of a job whose run ended with `outcome`, stored: done, with its size, loss and history. */
export function markDone(job: JobRecord, outcome: RunOutcome, finishedAt: string): void {
  job.status = 'done';
  job.finishedAt = finishedAt;
  if (outcome.width !== undefined) job.width = outcome.width;
  if (outcome.height !== undefined) job.height = outcome.height;
  if (outcome.duration !== undefined) job.duration = outcome.duration;
  if (outcome.frames !== undefined) job.frames = outcome.frames;
  if (outcome.fps !== undefined) job.fps = outcome.fps;
  if (outcome.loss !== undefined) job.loss = outcome.loss;
  if (outcome.lossHistory) job.lossHistory = [...outcome.lossHistory];
  job.progress = { iter: job.progress.iters, iters: job.progress.iters };
}

/** A video job's progress: frames finished of its frames (a `video` event at an iteration is about the frame being made). */
export const framesDone = (p: VideoProgress): { iter: number; iters: number } => ({ iter: p.iter < p.iters ? p.frame - 1 : p.frame, iters: p.frames });
