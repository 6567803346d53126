// Dense optical flow between consecutive frames: Farnebäck's method from OpenCV's WebAssembly build
// (@techstark/opencv-js, loaded once on first use), on the frames' luma at the working size, both directions.
import { createRequire } from 'node:module';
import { StyleloomError } from '../errors.js';
import type { RgbImage } from '../image/types.js';

/** A flow field: (dx, dy) per pixel, interleaved, row-major: pixel p of the frame it is computed for is at p + (dx, dy) in the other. */
export interface Flow {
  data: Float32Array;
  width: number;
  height: number;
}

/** The part of OpenCV.js this module uses. */
interface CvMat {
  data: Uint8Array;
  data32F: Float32Array;
  rows: number;
  cols: number;
  delete(): void;
}
interface Cv {
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  Size: new (width: number, height: number) => unknown;
  CV_8UC1: number;
  INTER_AREA: number;
  INTER_LINEAR: number;
  resize(src: CvMat, dst: CvMat, dsize: unknown, fx: number, fy: number, interpolation: number): void;
  calcOpticalFlowFarneback(prev: CvMat, next: CvMat, flow: CvMat, pyrScale: number, levels: number, winsize: number, iterations: number, polyN: number, polySigma: number, flags: number): void;
  onRuntimeInitialized?: () => void;
}

let loading: Promise<Cv> | undefined;

/** OpenCV.js, initialised (its WebAssembly runtime starts asynchronously; about 0.2 s). */
export function loadOpenCv(): Promise<Cv> {
  loading ??= new Promise<Cv>((resolve, reject) => {
    let cv: Cv & { then?: unknown };
    // the Emscripten build installs process-wide handlers (an uncaught exception is rethrown with its 7 MB
    // source printed, an unhandled rejection aborts): keep the process's own behaviour by removing them
    const events = ['uncaughtException', 'unhandledRejection'];
    const proc = process as unknown as { listeners(ev: string): unknown[]; off(ev: string, l: unknown): void };
    const before = events.map((ev) => new Set(proc.listeners(ev)));
    try {
      cv = createRequire(import.meta.url)('@techstark/opencv-js') as Cv;
    } catch (e) {
      reject(new StyleloomError('E_INTERNAL', `optical flow needs @techstark/opencv-js, which did not load (${(e as Error).message}); reinstall styleloom (npm ci)`));
      return;
    } finally {
      events.forEach((ev, k) => {
        for (const l of proc.listeners(ev)) if (!before[k].has(l)) proc.off(ev, l);
      });
    }
    // the Emscripten module is a thenable that resolves to itself: never await it, wait for the runtime instead
    const ready = () => {
      delete cv.then;
      resolve(cv);
    };
    if (typeof (cv as { Mat?: unknown }).Mat === 'function' && typeof cv.calcOpticalFlowFarneback === 'function') ready();
    else cv.onRuntimeInitialized = ready;
  });
  return loading;
}

/** Farnebäck's parameters (OpenCV's names); FLOW_DEFAULTS measured best on the pan test (see test/video-flow.test.ts). */
export interface FarnebackParams {
  pyrScale: number;
  /** Pyramid levels; 0 = as many as keep the coarsest level at least 16 px. */
  levels: number;
  winsize: number;
  iterations: number;
  polyN: number;
  polySigma: number;
  /** OPTFLOW_FARNEBACK_GAUSSIAN (256) or 0. */
  flags: number;
}

export const FLOW_DEFAULTS: FarnebackParams = { pyrScale: 0.5, levels: 0, winsize: 15, iterations: 3, polyN: 5, polySigma: 1.2, flags: 0 };

/** Pyramid levels that keep the coarsest level at least 16 px on its short side (at most 5). */
export const autoLevels = (w: number, h: number, pyrScale: number): number => Math.max(1, Math.min(5, 1 + Math.floor(Math.log(Math.min(w, h) / 16) / Math.log(1 / pyrScale))));

/** BT.601 luma of an RGB frame, 8 bits. */
export function luma(f: RgbImage): Uint8Array {
  const out = new Uint8Array(f.width * f.height);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * f.data[3 * i] + 0.587 * f.data[3 * i + 1] + 0.114 * f.data[3 * i + 2]);
  return out;
}

/** A frame's luma held in OpenCV's memory for the flows it takes part in (at `scale` of its size); delete() when done. */
export interface FlowFrame {
  width: number;
  height: number;
  /** The luma the flow is computed on: width x height, or smaller with a flow scale below 1. */
  mat: CvMat;
  delete(): void;
}

export const flowFrame = (f: RgbImage, scale = 1): Promise<FlowFrame> => flowFrameOfLuma(luma(f), f.width, f.height, scale);

/** The size the flow of a width x height frame is computed at with flow scale `scale` (at least 16 px a side). */
const flowSize = (width: number, height: number, scale: number): { width: number; height: number } =>
  scale >= 1 ? { width, height } : { width: Math.max(Math.min(16, width), Math.round(width * scale)), height: Math.max(Math.min(16, height), Math.round(height * scale)) };

/** A frame from its 8-bit luma (width x height, row-major); with `scale` < 1 it is averaged down (OpenCV's INTER_AREA) for a faster flow. */
export async function flowFrameOfLuma(y: Uint8Array, width: number, height: number, scale = 1): Promise<FlowFrame> {
  const cv = await loadOpenCv();
  const full = new cv.Mat(height, width, cv.CV_8UC1);
  full.data.set(y);
  const small = flowSize(width, height, scale);
  if (small.width === width && small.height === height) return { width, height, mat: full, delete: () => full.delete() };
  const mat = new cv.Mat();
  try {
    cv.resize(full, mat, new cv.Size(small.width, small.height), 0, 0, cv.INTER_AREA);
  } finally {
    full.delete();
  }
  return { width, height, mat, delete: () => mat.delete() };
}

/** The flow from frame `a` to frame `b`: a(p) ≈ b(p + flow(p)); computed at the frames' flow size, then resized (bilinear) and its vectors scaled to the frame's size. */
export async function opticalFlow(a: FlowFrame, b: FlowFrame, params: Partial<FarnebackParams> = {}): Promise<Flow> {
  if (a.width !== b.width || a.height !== b.height || a.mat.cols !== b.mat.cols || a.mat.rows !== b.mat.rows) {
    throw new StyleloomError('E_INTERNAL', `flow between ${a.width}x${a.height} (at ${a.mat.cols}x${a.mat.rows}) and ${b.width}x${b.height} (at ${b.mat.cols}x${b.mat.rows})`);
  }
  const cv = await loadOpenCv();
  const p = { ...FLOW_DEFAULTS, ...params };
  const [w, h] = [a.mat.cols, a.mat.rows];
  const levels = p.levels > 0 ? p.levels : autoLevels(w, h, p.pyrScale);
  const out = new cv.Mat();
  const big = new cv.Mat();
  try {
    cv.calcOpticalFlowFarneback(a.mat, b.mat, out, p.pyrScale, levels, p.winsize, p.iterations, p.polyN, p.polySigma, p.flags);
    if (w === a.width && h === a.height) return { data: new Float32Array(out.data32F), width: a.width, height: a.height };
    cv.resize(out, big, new cv.Size(a.width, a.height), 0, 0, cv.INTER_LINEAR);
    const data = new Float32Array(big.data32F);
    const [sx, sy] = [a.width / w, a.height / h];
    for (let i = 0; i < data.length; i += 2) {
      data[i] *= sx;
      data[i + 1] *= sy;
    }
    return { data, width: a.width, height: a.height };
  } finally {
    out.delete();
    big.delete();
  }
}

/** Both flows between consecutive frames: `back` from `cur` to `prev` (where each pixel of cur was), `fwd` from `prev` to `cur`. */
export async function flowPair(prev: FlowFrame, cur: FlowFrame, params?: Partial<FarnebackParams>): Promise<{ back: Flow; fwd: Flow }> {
  return { back: await opticalFlow(cur, prev, params), fwd: await opticalFlow(prev, cur, params) };
}
