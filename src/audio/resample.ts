// Sample-rate conversion by windowed-sinc interpolation (Hann-windowed, 16 zero crossings of the lower
// rate's Nyquist frequency each side), and the mono mixdown (the average of the channels, as the peer).

/** The average of the channels. */
export function mixdown(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  for (let i = 0; i < n; i++) out[i] /= channels.length;
  return out;
}

const ZEROS = 16;

/** `x` at `from` Hz resampled to `to` Hz: length round(n * to / from); band-limited to the lower rate. */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  const ratio = to / from;
  const n = Math.max(1, Math.round(x.length * ratio));
  const cut = Math.min(1, ratio); // cutoff relative to the input's Nyquist frequency
  const half = ZEROS / cut; // kernel half-width in input samples
  const out = new Float32Array(n);
  for (let m = 0; m < n; m++) {
    const t = m / ratio;
    const lo = Math.max(0, Math.ceil(t - half));
    const hi = Math.min(x.length - 1, Math.floor(t + half));
    let s = 0;
    for (let k = lo; k <= hi; k++) {
      const d = t - k;
      const a = Math.PI * cut * d;
      const sinc = a === 0 ? 1 : Math.sin(a) / a;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / half);
      s += x[k] * sinc * w;
    }
    out[m] = s * cut;
  }
  return out;
}
