// Phase reconstruction by Griffin-Lim, the fast (momentum) variant of torch.functional.griffinlim as the
// peer runs it: phase started from zero (or from a given spectrum's), momentum 0.99, one iSTFT + STFT per iteration.
import { istft, stft } from './stft.js';

export interface GriffinLimOptions {
  nFft: number;
  hop: number;
  iters: number;
  /** Samples of the result. */
  length: number;
  momentum?: number;
  signal?: AbortSignal;
  /** Called after each iteration (1-based). */
  onIter?: (iter: number) => void;
  /** The phase to start from (a spectrum of the same shape: its angles are used); default zero phase. */
  start?: { re: ArrayLike<number>; im: ArrayLike<number> };
}

/** A wave whose STFT magnitude approaches `mag` (bins x frames, bin-major). */
export function griffinLim(mag: ArrayLike<number>, bins: number, frames: number, o: GriffinLimOptions): Float64Array {
  const m = o.momentum ?? 0.99;
  const n = bins * frames;
  const k = m / (1 + m);
  // angles = 1 (phase zero), or those of `start`
  const ar = new Float64Array(n).fill(1);
  const ai = new Float64Array(n);
  if (o.start) {
    for (let j = 0; j < n; j++) {
      const r = o.start.re[j];
      const i = o.start.im[j];
      const a = Math.sqrt(r * r + i * i);
      if (a > 1e-16) {
        ar[j] = r / a;
        ai[j] = i / a;
      }
    }
  }
  let pr: Float64Array = new Float64Array(n);
  let pi: Float64Array = new Float64Array(n);
  const cur = { re: new Float64Array(n), im: new Float64Array(n), bins, frames };
  const withMag = () => {
    for (let j = 0; j < n; j++) {
      cur.re[j] = mag[j] * ar[j];
      cur.im[j] = mag[j] * ai[j];
    }
    return cur;
  };
  for (let it = 0; it < o.iters; it++) {
    if (o.signal?.aborted) break;
    const wave = istft(withMag(), o.nFft, o.hop, o.length);
    const rebuilt = stft(wave, o.nFft, o.hop);
    for (let j = 0; j < n; j++) {
      const xr = rebuilt.re[j] - k * pr[j];
      const xi = rebuilt.im[j] - k * pi[j];
      const a = Math.max(Math.sqrt(xr * xr + xi * xi), 1e-16);
      ar[j] = xr / a;
      ai[j] = xi / a;
    }
    pr = rebuilt.re;
    pi = rebuilt.im;
    o.onIter?.(it + 1);
  }
  return istft(withMag(), o.nFft, o.hop, o.length);
}
