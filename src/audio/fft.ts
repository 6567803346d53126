// In-place radix-2 complex FFT on split real/imaginary Float64Arrays, with the twiddle and bit-reversal
// tables cached per size; the forward transform has no scaling, the inverse divides by n.
import { StyleloomError } from '../errors.js';

interface Plan {
  n: number;
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}

const plans = new Map<number, Plan>();

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (p) return p;
  if (!isPowerOfTwo(n)) throw new StyleloomError('E_INTERNAL', `fft: size ${n} is not a power of two`);
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((k >>> b) & 1) << (bits - 1 - b);
    rev[k] = r;
  }
  p = { n, cos, sin, rev };
  plans.set(n, p);
  return p;
}

/** X[k] = sum_j x[j] e^{-2 pi i jk/n} (sign -1), or the inverse with e^{+...} / n (sign +1). In place. */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  const { cos, sin, rev } = planFor(n);
  for (let k = 0; k < n; k++) {
    const r = rev[k];
    if (r > k) {
      let t = re[k];
      re[k] = re[r];
      re[r] = t;
      t = im[k];
      im[k] = im[r];
      im[r] = t;
    }
  }
  // stages of radix-2 butterflies; each twiddle is loaded once per stage
  const sgn = inverse ? 1 : -1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let j = 0; j < half; j++) {
      const wr = cos[j * step];
      const wi = sgn * sin[j * step];
      for (let a = j; a < n; a += size) {
        const b = a + half;
        const br = re[b];
        const bi = im[b];
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a];
        const ai = im[a];
        re[b] = ar - xr;
        im[b] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
      }
    }
  }
  if (inverse) {
    for (let k = 0; k < n; k++) {
      re[k] /= n;
      im[k] /= n;
    }
  }
}
