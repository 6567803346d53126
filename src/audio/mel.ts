// A log-frequency front end for the audio loss: triangular mel bands (HTK mel scale) over the linear
// STFT bins, each band the weighted mean of its bins, applied as a 1 x 1 Conv before the random filters.

const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);

/**
 * The [mels, bins] weights (row-major) of `mels` triangular bands from 0 Hz to sr/2 over the `bins`
 * bins of an n_fft = 2 (bins - 1) STFT at `sr`; each row sums to 1 (a band too narrow to cover a bin
 * takes its nearest bin).
 */
export function melMatrix(mels: number, bins: number, sr: number): Float32Array {
  const nFft = 2 * (bins - 1);
  const edges = Array.from({ length: mels + 2 }, (_, k) => hz((mel(sr / 2) * k) / (mels + 1)));
  const w = new Float64Array(mels * bins);
  for (let m = 0; m < mels; m++) {
    const [lo, mid, hi] = [edges[m], edges[m + 1], edges[m + 2]];
    let sum = 0;
    for (let b = 0; b < bins; b++) {
      const f = (b * sr) / nFft;
      const v = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
      w[m * bins + b] = v;
      sum += v;
    }
    if (sum === 0) {
      w[m * bins + Math.min(bins - 1, Math.round((mid * nFft) / sr))] = 1;
      sum = 1;
    }
    for (let b = 0; b < bins; b++) w[m * bins + b] /= sum;
  }
  return Float32Array.from(w);
}
