// Encodes float32 tensors (stored as F32, or rounded to F16) and string metadata as a safetensors file (u64 LE header length, JSON header
// padded with spaces to 8 bytes, raw little-endian data back to back). Browser-safe; the reader is safetensors-format.ts.
import { StyleloomError } from '../errors.js';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  /** How the values are stored (default F32); F16 rounds to nearest even, and refuses values beyond its range. */
  dtype?: 'F32' | 'F16';
}

const F32_VIEW = new Float32Array(1);
const U32_VIEW = new Uint32Array(F32_VIEW.buffer);

/** IEEE 754 binary16 bits of `x`, rounded to nearest even (subnormals kept, NaN kept, overflow to infinity). */
export function floatToHalf(x: number): number {
  F32_VIEW[0] = x;
  const b = U32_VIEW[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

function halfBytes(name: string, data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (Math.abs(data[i]) > 65504) throw new StyleloomError('E_INTERNAL', `safetensors: ${name}[${i}] = ${data[i]} is beyond half precision's range`);
    view.setUint16(2 * i, floatToHalf(data[i]), true);
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The file as chunks (the header, then each tensor's bytes, not copied on little-endian hosts), in the
 * order given; the same tensors and metadata always give the same bytes.
 */
export function encodeSafetensors(tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) throw new StyleloomError('E_INTERNAL', `safetensors: tensor name ${t.name} is reserved or repeated`);
    seen.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new StyleloomError('E_INTERNAL', `safetensors: ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = t.dtype === 'F16' ? 2 : 4;
    header[t.name] = { dtype: t.dtype ?? 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes * count] };
    offset += bytes * count;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((new TextEncoder().encode(text).length) % 8)) % 8);
  const json = new TextEncoder().encode(text);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  const chunks: Uint8Array[] = [prefix, json];
  for (const t of tensors) {
    if (t.dtype === 'F16') chunks.push(halfBytes(t.name, t.data));
    else if (LITTLE_ENDIAN_HOST) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    else {
      const b = new Uint8Array(t.data.length * 4);
      const view = new DataView(b.buffer);
      for (let i = 0; i < t.data.length; i++) view.setFloat32(4 * i, t.data[i], true);
      chunks.push(b);
    }
  }
  return chunks;
}
