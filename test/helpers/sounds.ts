// Test helper: tiny synthetic sounds (an exponential chirp, a sum of pure tones) and a band-energy
// measure of a spectrum, for the audio tests; written to WAV by the project's own encoder.
import fs from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../../src/audio/wav.js';
import { stft } from '../../src/audio/stft.js';

/** An exponential sweep from f0 to f1 Hz, amplitude 0.5. */
export function chirp(sr: number, seconds: number, f0 = 200, f1 = 3000): Float32Array {
  const n = Math.round(sr * seconds);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * f0 * (f1 / f0) ** (i / n)) / sr;
    out[i] = 0.5 * Math.sin(phase);
  }
  return out;
}

/** A sum of pure tones at `freqs` Hz, each of amplitude 0.3. */
export function tones(sr: number, seconds: number, freqs: number[] = [500, 1500]): Float32Array {
  const n = Math.round(sr * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) for (const f of freqs) out[i] += 0.3 * Math.sin((2 * Math.PI * f * i) / sr);
  return out;
}

/** Writes `samples` as a 16-bit WAV at `file` and returns the path. */
export function writeTestWav(file: string, samples: Float32Array, sr: number): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeWav(samples, sr, 's16'));
  return file;
}

/** Fraction of the spectral energy of `x` within ±`band` Hz of any of `freqs`. */
export function energyNear(x: ArrayLike<number>, sr: number, freqs: number[], band = 100, nFft = 256): number {
  const s = stft(x, nFft, nFft / 4);
  let near = 0;
  let all = 0;
  for (let k = 0; k < s.bins; k++) {
    const f = (k * sr) / nFft;
    let e = 0;
    for (let t = 0; t < s.frames; t++) e += s.re[k * s.frames + t] ** 2 + s.im[k * s.frames + t] ** 2;
    all += e;
    if (freqs.some((c) => Math.abs(f - c) <= band)) near += e;
  }
  return near / all;
}
