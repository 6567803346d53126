// Short-time Fourier transform as torch.stft/istft with center=True: periodic Hann window, reflect
// padding by n_fft/2, one-sided spectra (bins = n_fft/2 + 1) stored bin-major (bins x frames, [k*T + t]).
import { StyleloomError } from '../errors.js';
import { fft } from './fft.js';

/** A one-sided complex spectrogram, bins x frames, bin-major. */
export interface Spectrum {
  re: Float64Array;
  im: Float64Array;
  bins: number;
  frames: number;
}

const windows = new Map<number, Float64Array>();

/** The periodic Hann window of length n: 0.5 - 0.5 cos(2 pi j / n). */
export function hann(n: number): Float64Array {
  let w = windows.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let j = 0; j < n; j++) w[j] = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / n);
    windows.set(n, w);
  }
  return w;
}

/** Frames of a centred STFT of `length` samples: 1 + floor(length / hop). */
export const framesFor = (length: number, hop: number): number => 1 + Math.floor(length / hop);

/** Reflect-padded sample j (numpy/torch "reflect": the edge sample is not repeated). */
function reflectAt(x: ArrayLike<number>, j: number): number {
  const n = x.length;
  if (j < 0) j = -j;
  if (j >= n) j = 2 * (n - 1) - j;
  return x[j];
}

/** STFT of `x` (n_fft a power of two, hop >= 1); x must be longer than n_fft/2 (reflect padding). */
export function stft(x: ArrayLike<number>, nFft: number, hop: number): Spectrum {
  const half = nFft / 2;
  if (x.length <= half) throw new StyleloomError('E_INTERNAL', `stft: ${x.length} samples, need more than n_fft/2 = ${half}`);
  const bins = half + 1;
  const frames = framesFor(x.length, hop);
  const win = hann(nFft);
  const re = new Float64Array(bins * frames);
  const im = new Float64Array(bins * frames);
  const zr = new Float64Array(nFft);
  const zi = new Float64Array(nFft);
  // two real frames per complex FFT: z = a + i b, A[k] = (Z[k] + conj Z[N-k]) / 2, B[k] = (Z[k] - conj Z[N-k]) / 2i
  for (let t = 0; t < frames; t += 2) {
    const two = t + 1 < frames;
    for (let j = 0; j < nFft; j++) {
      const p = t * hop + j - half;
      zr[j] = win[j] * reflectAt(x, p);
      zi[j] = two ? win[j] * reflectAt(x, p + hop) : 0;
    }
    fft(zr, zi);
    for (let k = 0; k < bins; k++) {
      const m = (nFft - k) % nFft;
      const ar = 0.5 * (zr[k] + zr[m]);
      const ai = 0.5 * (zi[k] - zi[m]);
      re[k * frames + t] = ar;
      im[k * frames + t] = ai;
      if (two) {
        re[k * frames + t + 1] = 0.5 * (zi[k] + zi[m]);
        im[k * frames + t + 1] = -0.5 * (zr[k] - zr[m]);
      }
    }
  }
  return { re, im, bins, frames };
}

/**
 * Inverse STFT (torch.istft, center=True): inverse FFT of each frame (imaginary parts of the DC and
 * Nyquist bins ignored, as a real inverse transform does), windowed overlap-add divided by the summed
 * squared window, the n_fft/2 padding removed, cut or zero-padded to `length` samples.
 */
export function istft(s: Spectrum, nFft: number, hop: number, length: number): Float64Array {
  const { re, im, bins, frames } = s;
  if (bins !== nFft / 2 + 1) throw new StyleloomError('E_INTERNAL', `istft: ${bins} bins for n_fft ${nFft}`);
  const win = hann(nFft);
  const total = nFft + hop * (frames - 1);
  const y = new Float64Array(total);
  const env = new Float64Array(total);
  const zr = new Float64Array(nFft);
  const zi = new Float64Array(nFft);
  // two frames per complex inverse FFT: ifft(A + i B) = a + i b for Hermitian A, B
  for (let t = 0; t < frames; t += 2) {
    const two = t + 1 < frames;
    for (let k = 0; k < bins; k++) {
      const ar = re[k * frames + t];
      const ai = k === 0 || k === bins - 1 ? 0 : im[k * frames + t];
      const br = two ? re[k * frames + t + 1] : 0;
      const bi = two && k !== 0 && k !== bins - 1 ? im[k * frames + t + 1] : 0;
      zr[k] = ar - bi;
      zi[k] = ai + br;
      if (k !== 0 && k !== bins - 1) {
        // Z[N-k] = conj(A[k]) + i conj(B[k])
        zr[nFft - k] = ar + bi;
        zi[nFft - k] = br - ai;
      }
    }
    fft(zr, zi, true);
    for (let j = 0; j < nFft; j++) {
      const p = t * hop + j;
      y[p] += zr[j] * win[j];
      env[p] += win[j] * win[j];
      if (two) {
        y[p + hop] += zi[j] * win[j];
        env[p + hop] += win[j] * win[j];
      }
    }
  }
  const out = new Float64Array(length);
  const start = nFft / 2;
  for (let j = 0; j < length && start + j < total; j++) {
    const e = env[start + j];
    out[j] = e > 1e-11 ? y[start + j] / e : 0;
  }
  return out;
}

/** S = log1p(|X|) of a spectrum, as float32 (the spectrogram the audio mode optimises). */
export function logMagnitude(s: Spectrum): Float32Array {
  const out = new Float32Array(s.re.length);
  for (let k = 0; k < out.length; k++) out[k] = Math.log1p(Math.sqrt(s.re[k] * s.re[k] + s.im[k] * s.im[k]));
  return out;
}
