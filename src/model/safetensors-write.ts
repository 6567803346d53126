// Encodes float32 tensors and string metadata as a safetensors file (u64 LE header length, JSON header
// padded with spaces to 8 bytes, raw little-endian data back to back). Browser-safe; the reader is safetensors-format.ts.
import { StyleloomError } from '../errors.js';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
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
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((new TextEncoder().encode(text).length) % 8)) % 8);
  const json = new TextEncoder().encode(text);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  const chunks: Uint8Array[] = [prefix, json];
  for (const t of tensors) {
    if (LITTLE_ENDIAN_HOST) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    else {
      const b = new Uint8Array(t.data.length * 4);
      const view = new DataView(b.buffer);
      for (let i = 0; i < t.data.length; i++) view.setFloat32(4 * i, t.data[i], true);
      chunks.push(b);
    }
  }
  return chunks;
}
