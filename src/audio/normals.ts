// The audio peer's normal numbers, reproduced exactly: splitmix64 (64-bit arithmetic on two 32-bit
// halves) feeding Box–Muller's cosine branch, one normal per pair of uniforms (see the peer's docstring).

const TWO_32 = 4294967296;
const TWO_M53 = 2 ** -53;
// splitmix64 constants, as [high, low] 32-bit halves
const GOLDEN_HI = 0x9e3779b9;
const GOLDEN_LO = 0x7f4a7c15;
const M1_HI = 0xbf58476d;
const M1_LO = 0x1ce4e5b9;
const M2_HI = 0x94d049bb;
const M2_LO = 0x133111eb;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers (exact, in doubles). */
function mulHi(a: number, b: number): number {
  const p = (a & 0xffff) * b; // < 2^48
  const q = (a >>> 16) * b; // < 2^48
  const qHi = Math.floor(q / 65536);
  const qLo = q - qHi * 65536;
  return (qHi + Math.floor((qLo * 65536 + p) / TWO_32)) >>> 0;
}

/**
 * The stream z_0, z_1, ... of the peer: state = seed; each uniform is splitmix64's next() >> 11 times
 * 2^-53; z_i = sqrt(-2 ln(1 - u1)) cos(2 pi u2) from the pair (u1, u2) drawn in that order.
 */
export class PeerNormals {
  private hi: number;
  private lo: number;

  /** `seed`: an integer in 0 .. 2^53 (the peer's seed is taken mod 2^64). */
  constructor(seed: number) {
    this.hi = Math.floor(seed / TWO_32) >>> 0;
    this.lo = seed >>> 0;
  }

  /** splitmix64's next(), as a uniform double in [0, 1) with its top 53 bits. */
  uniform(): number {
    // state += golden (with carry)
    const lo0 = this.lo + GOLDEN_LO;
    this.lo = lo0 >>> 0;
    this.hi = (this.hi + GOLDEN_HI + (lo0 >= TWO_32 ? 1 : 0)) >>> 0;
    let hi = this.hi;
    let lo = this.lo;
    // z = (z ^ z >> 30) * M1
    lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
    hi = (hi ^ (hi >>> 30)) >>> 0;
    let h = (mulHi(lo, M1_LO) + Math.imul(hi, M1_LO) + Math.imul(lo, M1_HI)) >>> 0;
    lo = Math.imul(lo, M1_LO) >>> 0;
    hi = h;
    // z = (z ^ z >> 27) * M2
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    h = (mulHi(lo, M2_LO) + Math.imul(hi, M2_LO) + Math.imul(lo, M2_HI)) >>> 0;
    lo = Math.imul(lo, M2_LO) >>> 0;
    hi = h;
    // z ^ z >> 31, then >> 11: the top 53 bits
    lo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
    hi = (hi ^ (hi >>> 31)) >>> 0;
    return (hi * 2097152 + (lo >>> 11)) * TWO_M53;
  }

  /** The next normal number of the stream. */
  next(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `out` with the next out.length normals times `scale` (rounded to float32 once, as the peer does). */
  fill<T extends Float32Array | Float64Array>(out: T, scale = 1): T {
    for (let k = 0; k < out.length; k++) out[k] = this.next() * scale;
    return out;
  }
}
