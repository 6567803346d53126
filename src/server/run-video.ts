// How the server runs a mode=video job: stylizeVideo() on the stored clip (engine gatys with the style
// images, or fast with one of the server's networks), a `video` event per iteration and per frame, each
// finished frame as the preview, and the MP4 as the result; a cancelled or failed run leaves no files.
import { readFile, rm } from 'node:fs/promises';
import { StyleloomError } from '../errors.js';
import { encodeImage } from '../image/io.js';
import type { DeviceKind } from '../runtime/device.js';
import { framesDirFor } from '../video/frames-dir.js';
import { stylizeVideo } from '../video/stylize-video.js';
import type { VideoParams } from './jobs.js';
import type { FastModelInfo } from './models.js';
import { videoOptionsFor } from './params.js';
import { SHUTDOWN, type RunContext, type RunOutcome } from './queue.js';

export interface VideoRunConfig {
  weights?: string;
  threads?: number;
  device?: DeviceKind;
  fastModels: () => FastModelInfo[];
}

/** The file the video is written to, beside the job's inputs (the result is stored from it, then it goes). */
const RENDER = 'render.mp4';

export async function runVideoJob(ctx: RunContext, p: VideoParams, cfg: VideoRunConfig): Promise<RunOutcome> {
  const { inputs } = ctx.job;
  let modelPath: string | undefined;
  if (p.engine === 'fast') {
    modelPath = cfg.fastModels().find((m) => m.name === p.model)?.path;
    if (!modelPath) throw new StyleloomError('E_WEIGHTS', `fast model ${String(p.model)} is no longer available on this server`);
  }
  const out = ctx.file(RENDER);
  const options = videoOptionsFor(p, ctx.file(inputs.content), inputs.styles.map((s) => ctx.file(s)), out, modelPath);
  // the clip's length was checked against this server's limit at submission
  Object.assign(options, { weights: cfg.weights, threads: cfg.threads, device: cfg.device, maxDuration: Math.max(600, (ctx.job.duration ?? 0) + 1) });
  // the record names the clip and styles as the client did (not content.mp4, style-0.jpg) and the network by its name
  options.provenanceNames = { content: inputs.contentName, styles: inputs.styleNames, model: p.engine === 'fast' ? String(p.model) : undefined };
  const frameMs: number[] = [];
  const sPerFrame = () => (frameMs.length ? frameMs.reduce((a, b) => a + b, 0) / frameMs.length / 1000 : 0);
  let etaS: number | null = null;
  let iters = 1; // of the frame being made (gatys; fast: one pass)
  // a run cut short by a crash or a restart left its frames: this run goes on after the last one (if the frames
  // folder's run.json does not match the clip and options, the folder is replaced and the run starts again)
  Object.assign(options, { resumeFrames: true, staleFrames: 'replace' });
  const run = () => stylizeVideo(options, {
    signal: ctx.signal,
    onProgress: (e) => {
      if (e.phase === 'frame') {
        if (!e.resumed) frameMs.push(e.ms);
        if (e.etaMs !== undefined) etaS = e.etaMs / 1000;
        ctx.video({ frame: e.frame, frames: e.frames, iter: iters, iters, sPerFrame: sPerFrame(), etaS });
      } else {
        iters = e.iters ?? iters;
        ctx.video({ frame: e.frame, frames: e.frames, iter: e.iter ?? 0, iters, sPerFrame: sPerFrame(), etaS });
      }
    },
    // the latest finished frame is the preview (its number as the preview's iteration)
    onFrame: async (frame, index) => ctx.preview(await encodeImage(frame, 'png'), index + 1),
  });
  try {
    const r = await run();
    if (ctx.signal.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
    return { result: await readFile(out), width: r.width, height: r.height, frames: r.frames, fps: r.fps, duration: r.frames / r.fps, loss: null, lossHistory: [] };
  } finally {
    await rm(out, { force: true });
    // a shutdown keeps the finished frames for the run after the restart; a cancel, a failure or the end removes them
    if (!(ctx.signal.aborted && ctx.signal.reason === SHUTDOWN)) await rm(framesDirFor(out), { recursive: true, force: true });
  }
}
