// stylizeVideo(): a clip repainted frame by frame, temporally consistent after Ruder et al. 2016 (optical
// flow both ways, consistency mask, warm starts and the temporal loss; or, in fast mode, the network's
// output blended along the flow), frames streamed from and to ffmpeg, kept in <out>.frames/ for --resume.
import fs from 'node:fs';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import { toCaffe } from '../image/caffe.js';
import type { RgbImage } from '../image/types.js';
import { resolveLayers } from '../model/vgg19.js';
import { loadVggWeights } from '../model/vgg19-file.js';
import { resolveWeightsPath } from '../model/weights.js';
import type { OptionRows } from '../options/table.js';
import type { ResolvedLibraryOptions } from '../options/types.js';
import { resolveTableOptions } from '../options/validate.js';
import { loadFastModel, type LoadedFastModel } from '../fast/stylize-fast.js';
import { loadAtLongSide } from '../transfer/images.js';
import { sha256Of } from '../transfer/provenance.js';
import { styleSideAt } from '../transfer/image-checks.js';
import { checkCanWrite } from '../util/atomic.js';
import { VERSION } from '../version.js';
import { openClip, type Clip } from './clip.js';
import { readFrames } from './decode.js';
import { openVideoWriter, videoFormatFor } from './encode.js';
import { blendWithPrevious, createGatysEngine, fastBatch, type GatysEngine, type Previous } from './engines.js';
import type { Reference } from './references.js';
import { startFlowService, type PairFlows } from './flow-service.js';
import { openFramesDir, type RunKey } from './frames-dir.js';
import { videoProvenance } from './provenance.js';
import type { VideoHooks, VideoOptions, VideoResult } from './types.js';

export type ResolvedVideoOptions = ResolvedLibraryOptions<OptionRows, 'video'> & Pick<VideoOptions, 'content' | 'styles' | 'out' | 'metadata' | 'provenanceNames' | 'staleFrames'>;

/** Frames per network run in fast mode. */
export const FAST_BATCH = 4;

const checkAborted = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
};

/** Table defaults and checks, plus the rules between options. */
/** {flowScale}'s default in fast mode (measured on vtest.avi at 384 px: flow 29 against 77 ms a frame, warp error 3.53e-4 against 4.74e-4); 1 in optimisation mode. */
const FAST_FLOW_SCALE = 0.5;

export function resolveVideoOptions(options: VideoOptions): ResolvedVideoOptions {
  const { content, styles, out, metadata, provenanceNames, staleFrames, ...rest } = options;
  if (typeof content !== 'string' || content === '') throw optionError('E_USAGE', '{content} is missing: give the video to repaint');
  if (typeof out !== 'string' || out === '') throw optionError('E_USAGE', '{out} is missing: give the output video (.mp4, .webm, .gif or .webp)');
  const o = resolveTableOptions('video', rest as Record<string, unknown>) as unknown as ResolvedVideoOptions;
  Object.assign(o, { content, styles, out, metadata, provenanceNames, staleFrames });
  videoFormatFor(out);
  o.flowScale ??= o.mode === 'fast' ? FAST_FLOW_SCALE : 1;
  if (o.mode === 'fast') {
    if (o.model === undefined) throw optionError('E_USAGE', '{mode} fast needs {model}: the feed-forward style network to run on every frame');
    if (styles?.length) throw optionError('E_USAGE', '{styles} is for {mode} gatys; with {mode} fast the network is the style (leave out {styles})');
  } else {
    if (!Array.isArray(styles) || styles.length === 0) throw optionError('E_USAGE', '{styles} is missing: give at least one style image (or {mode} fast with {model})');
    if (o.model !== undefined) throw optionError('E_USAGE', '{model} is for {mode} fast; add {mode} fast, or leave out {model}');
    if (o.contentWeight + o.styleWeight + o.tvWeight === 0) throw optionError('E_USAGE', '{contentWeight}, {styleWeight} and {tvWeight} are all 0: nothing to optimise');
  }
  return o;
}

/** The output's directory must exist and take new files (before any work). */
function checkOutput(out: string, content: string): void {
  const dir = path.dirname(path.resolve(out));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out}: directory ${path.dirname(out)} does not exist; create it first`);
  if (fs.statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out} is a directory; give a file name such as ${path.join(out, 'out.mp4')}`);
  if (path.resolve(out) === path.resolve(content)) throw optionError('E_USAGE', `{out} ${out} is the input clip: writing it would destroy the input; choose another output name`);
  checkCanWrite(path.resolve(out));
}

/** Everything that shapes the frames, for the frames folder's run.json (a resumed run must match it). */
async function runKey(o: ResolvedVideoOptions, clip: Clip): Promise<RunKey> {
  const st = fs.statSync(o.content);
  const { out: _o, metadata: _m, resumeFrames: _r, threads: _t, device: _d, content: _c, provenanceNames: _n, staleFrames: _s, styles, ...shaping } = o;
  return {
    software: `styleloom ${VERSION}`,
    clip: { file: path.resolve(o.content), bytes: st.size, mtimeMs: st.mtimeMs },
    plan: { ...clip.plan, file: undefined },
    frames: clip.frames,
    options: shaping,
    styles: styles ? await Promise.all(styles.map(sha256Of)) : [],
  };
}

/** The engines of a run: what turns a frame (and its previous result) into the stylised frame. */
interface FrameMaker {
  /** Stylises `batch` (consecutive frames), calling `prevOf(k)` for frame k's previous result once frame k−1 is done. */
  make(batch: RgbImage[], prevOf: (k: number) => Promise<Previous | null>, onDone: (k: number, out: RgbImage) => Promise<void>, first: number): Promise<void>;
  release(): Promise<void>;
}

async function gatysMaker(o: ResolvedVideoOptions, clip: Clip, hooks: VideoHooks): Promise<FrameMaker> {
  const weights = await loadVggWeights(resolveWeightsPath({ flag: o.weights }));
  const layers = resolveLayers(weights, o.contentLayers, o.styleLayers);
  const { width, height } = clip.plan;
  const side = styleSideAt(Math.max(width, height), o.styleScale);
  const styles = await Promise.all((o.styles ?? []).map(async (s) => {
    const img = await loadAtLongSide(s, side);
    return { data: toCaffe(img), width: img.width, height: img.height };
  }));
  const temporal = o.temporal && o.temporalWeight > 0;
  const engine: GatysEngine = await createGatysEngine({
    spec: { weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, pool: o.pool, temporalWeight: temporal ? o.temporalWeight : 0 },
    styles, width, height, iters: o.iters, frameIters: o.frameIters, optimizer: o.optimizer, lr: o.lr, originalColors: o.originalColors, session: { threads: o.threads, device: o.device },
  });
  const t0 = performance.now();
  return {
    async make(batch, prevOf, onDone, first) {
      for (let k = 0; k < batch.length; k++) {
        const prev = await prevOf(k);
        const out = await engine.frame(batch[k], prev, (iter, iters, loss, ms) =>
          hooks.onProgress?.({ phase: 'iter', frame: first + k + 1, frames: clip.frames, iter, iters, loss, ms, elapsedMs: performance.now() - t0 }),
        );
        await onDone(k, out);
      }
    },
    release: () => engine.release(),
  };
}

async function fastMaker(o: ResolvedVideoOptions): Promise<FrameMaker> {
  const model: LoadedFastModel = await loadFastModel(o.model!);
  const blending = o.temporal && o.blendWeight > 0;
  return {
    async make(batch, prevOf, onDone) {
      // with the flow thread beside it, onnxruntime's idle threads block instead of spinning (4-10% less per frame at 384 px)
      const nets = await fastBatch(model, batch, { threads: o.threads, device: o.device, spinning: !blending, originalColors: o.originalColors });
      for (let k = 0; k < batch.length; k++) {
        const prev = await prevOf(k);
        await onDone(k, prev?.length && o.blendWeight > 0 ? blendWithPrevious(nets[k], prev, o.blendWeight) : nets[k]);
      }
    },
    release: () => model.release(),
  };
}

/**
 * Repaints the clip `content` frame by frame into `out` (format by extension). Resolves when the video is
 * written; rejects with a StyleloomError (E_ABORTED when `signal` aborts: checked between frames, so the
 * finished frames stay in `<out>.frames/` for `resumeFrames`, and nothing is written at `out`).
 */
export async function stylizeVideo(options: VideoOptions, hooks: VideoHooks = {}): Promise<VideoResult> {
  const o = resolveVideoOptions(options);
  const { signal } = hooks;
  checkAborted(signal);
  checkOutput(o.out, o.content);
  const what = `the content video ${o.content}`;
  const clip = await openClip({ file: o.content, what, size: o.size, start: o.start, duration: o.duration, fps: o.fps, maxDuration: o.maxDuration, signal });
  checkAborted(signal);
  const key = await runKey(o, clip);
  const temporal = o.temporal && (o.mode === 'fast' ? o.blendWeight > 0 : true);
  // the flow thread starts (OpenCV.js loads in it, about 0.2 s) before the frames are timed
  const flows = temporal ? await startFlowService(o.flowScale) : null;
  let maker: FrameMaker | undefined;
  let dir;
  try {
    maker = o.mode === 'fast' ? await fastMaker(o) : await gatysMaker(o, clip, hooks);
    dir = await openFramesDir(o.out, key, o.resumeFrames, o.staleFrames);
  } catch (e) {
    await maker?.release();
    await flows?.close();
    throw e;
  }
  const { width, height, fps } = clip.plan;
  const stats = { frames: 0, ms: 0, flowMs: 0, flows: 0, reliable: 0 };
  const base = { mode: o.mode, temporal, frames: clip.frames, fps, width, height, hasAudio: clip.info.hasAudio };
  const writer = openVideoWriter({
    out: o.out, width, height, fps,
    audio: { file: o.content, start: o.start, duration: clip.plan.duration },
    metadata: o.metadata === false ? undefined : { comment: JSON.stringify(videoProvenance({ options: o, frames: { frames: clip.frames, fps, width, height }, styleSha256: key.styles as string[] })) },
  });
  const t0 = performance.now();
  // the last frames' results by index (their luma is on the flow thread): as far back as the long-term distances reach
  const distances = [...new Set(o.longTerm)].sort((a, b) => a - b);
  const reach = distances[distances.length - 1];
  const outs = new Map<number, RgbImage>();
  const remember = (i: number, out: RgbImage) => {
    outs.set(i, out);
    for (const j of outs.keys()) if (j <= i - reach) outs.delete(j);
  };
  /** Hands frame i to the flow thread and starts its pairs with the earlier frames it is tied to. */
  const startFlows = (i: number, frame: RgbImage): { distance: number; flows: Promise<PairFlows> }[] => {
    if (!flows) return [];
    flows.add(i, frame);
    return distances.filter((j) => flows.has(i - j)).map((j) => {
      const p = flows.pair(i - j, i);
      p.catch(() => undefined); // awaited in prevOf; a failure after an earlier error must not be unhandled
      return { distance: j, flows: p };
    });
  };
  let index = 0;
  const frames = readFrames(clip.plan, what, signal);
  try {
    let batch: RgbImage[] = [];
    const flush = async () => {
      if (!batch.length) return;
      checkAborted(signal);
      const first = index;
      const inputs = batch;
      batch = [];
      // the whole batch's flows start now on the flow thread, while the network (or the optimisation) runs here
      const pairs = inputs.map((frame, k) => startFlows(first + k, frame));
      flows?.dropBelow(first + inputs.length - reach);
      let lastEnd = performance.now();
      await maker!.make(
        inputs,
        async (k) => {
          const refs: Reference[] = [];
          for (const { distance, flows: p } of pairs[k]) {
            const { back, mask, ms } = await p;
            stats.flowMs += ms;
            refs.push({ distance, out: outs.get(first + k - distance)!, back, mask });
          }
          if (!refs.length) return null;
          stats.flows++;
          let kept = 0;
          for (let p = 0; p < refs[0].mask.length; p++) kept += refs.some((r) => r.mask[p] > 0) ? 1 : 0;
          stats.reliable += kept / refs[0].mask.length;
          return refs;
        },
        async (k, out) => {
          const i = first + k;
          await dir.write(i, out);
          await hooks.onFrame?.(out, i);
          await writer.write(out);
          remember(i, out);
          index = i + 1;
          const now = performance.now();
          const ms = now - lastEnd;
          lastEnd = now;
          stats.frames++;
          stats.ms += ms;
          hooks.onProgress?.({ phase: 'frame', frame: i + 1, frames: clip.frames, ms, elapsedMs: performance.now() - t0, etaMs: (stats.ms / stats.frames) * (clip.frames - i - 1) });
        },
        first,
      );
    };
    for await (const frame of frames) {
      if (index < dir.done) {
        // a frame of the interrupted run: taken as it was, and a reference of the frames after it
        const out = await dir.read(index);
        await writer.write(out);
        if (flows && index >= dir.done - reach) flows.add(index, frame);
        remember(index, out);
        index++;
        hooks.onProgress?.({ phase: 'frame', frame: index, frames: clip.frames, ms: 0, elapsedMs: performance.now() - t0, resumed: true });
        continue;
      }
      batch.push(frame);
      if (o.mode !== 'fast' || batch.length >= FAST_BATCH) await flush();
    }
    await flush();
    checkAborted(signal);
    if (index !== clip.frames) throw new StyleloomError('E_INPUT', `${what} gave ${index} frames on the second read but ${clip.frames} on the first; the file changed while it was read`);
    await writer.finish();
  } catch (e) {
    await writer.abort();
    await frames.return(undefined);
    throw e;
  } finally {
    await flows?.close();
    await maker!.release();
  }
  await dir.remove();
  return {
    ...base,
    out: o.out,
    sPerFrame: stats.frames ? stats.ms / stats.frames / 1000 : 0,
    flowMsPerFrame: stats.flows ? stats.flowMs / stats.flows : 0,
    resumedFrames: dir.done,
    reliable: stats.flows ? stats.reliable / stats.flows : 1,
  };
}
