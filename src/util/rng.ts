// Seeded pseudo-random numbers (xoshiro128** seeded through splitmix32) for reproducible noise
// initialisation: the same integer seed gives the same numbers on every run and platform.
import { StyleloomError } from '../errors.js';

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** splitmix32 step: advances `state` by the golden-ratio increment and returns a mixed 32-bit word. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** `seed`: any safe integer (negative and > 32-bit values are fine). */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new StyleloomError('E_USAGE', `seed must be an integer, got ${String(seed)}`);
    }
    const lo = seed >>> 0; // seed mod 2^32
    const hi = Math.floor(seed / TWO_32) >>> 0;
    const st = { s: lo };
    // fold the high word in so that seeds differing only above bit 31 give different streams
    st.s = (splitmix32(st) ^ hi) | 0;
    this.s0 = splitmix32(st) | 0;
    this.s1 = splitmix32(st) | 0;
    this.s2 = splitmix32(st) | 0;
    this.s3 = splitmix32(st) | 0;
    // splitmix32 is a bijection of consecutive counters, so at most one word is 0: the state is never all zero
  }

  /** The whole state (four words and the cached normal, or null), to save and continue the stream bit for bit. */
  getState(): { words: [number, number, number, number]; spare: number | null } {
    return { words: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Restores a state from getState() (e.g. read back from a checkpoint). */
  setState(st: { words: readonly number[]; spare: number | null }): void {
    const w = st.words;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => Number.isInteger(x)) || w.every((x) => x === 0) || !(st.spare === null || Number.isFinite(st.spare))) {
      throw new StyleloomError('E_USAGE', 'Rng.setState: expected four 32-bit words (not all zero) and a number or null');
    }
    [this.s0, this.s1, this.s2, this.s3] = w.map((x) => x | 0);
    this.spare = st.spare;
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits (two 32-bit draws). */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_53;
  }

  /** Standard normal (Box–Muller; the second value of each pair is cached for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.nextFloat(); // (0, 1], so the log is finite
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** `n` i.i.d. N(0, 1) samples as float32, from `new Rng(seed)`. */
export function randn(n: number, seed: number): Float32Array {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new StyleloomError('E_USAGE', `randn: n must be an integer >= 0, got ${String(n)}`);
  }
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}
