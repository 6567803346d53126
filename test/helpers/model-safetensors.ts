// Test helper: builds small safetensors files in memory (valid ones, and raw ones with any header)
// so that the reader, the VGG loader and the downloader can be tested without large fixtures.

export interface FixtureTensor {
  name: string;
  shape: number[];
  /** Values written as F32 (default) or as the raw bytes given. */
  data?: ArrayLike<number>;
  dtype?: string;
  bytes?: Uint8Array;
}

/** Any header object and data section, with a correct length prefix. */
export function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Buffer {
  const text = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([prefix, text, data]);
}

/** A valid file: tensors laid out back to back in the order given. */
export function buildSafetensors(tensors: FixtureTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    let bytes: Buffer;
    if (t.bytes) bytes = Buffer.from(t.bytes);
    else {
      bytes = Buffer.alloc(count * 4);
      for (let i = 0; i < count; i++) bytes.writeFloatLE(t.data ? t.data[i] : i * 0.5 - 1, i * 4);
    }
    header[t.name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  return rawSafetensors(header, Buffer.concat(parts));
}

/** A conv layer's two tensors (OIHW weight, bias) with deterministic values. */
export function convTensors(index: number, out: number, inp: number): FixtureTensor[] {
  const n = out * inp * 9;
  return [
    { name: `features.${index}.weight`, shape: [out, inp, 3, 3], data: Array.from({ length: n }, (_, i) => Math.sin(i + index)) },
    { name: `features.${index}.bias`, shape: [out], data: Array.from({ length: out }, (_, i) => i - index) },
  ];
}
