// The safetensors format (u64 LE header length, JSON header, raw tensor bytes) parsed from bytes, with
// every field checked so that a corrupt or truncated weights file gives one clear E_WEIGHTS line. Browser-safe.
import { StyleloomError } from '../errors.js';

export type SupportedDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** One tensor as described by the header (no data). Offsets are relative to the data section. */
export interface TensorEntry {
  dtype: SupportedDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface Tensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface Safetensors {
  metadata: Record<string, string>;
  /** The tensors that were loaded (all of them unless `include` filtered some out). */
  tensors: Map<string, Tensor>;
  /** Every tensor named in the header, loaded or not. */
  entries: Map<string, TensorEntry>;
}

export interface ParsedHeader {
  metadata: Record<string, string>;
  entries: Map<string, TensorEntry>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

export interface ReadOptions {
  /** Load the data of only the tensors for which this returns true (the header is still checked whole). */
  include?: (name: string) => boolean;
}

/** Headers larger than this are refused: real ones are a few kB to a few hundred kB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPE_SIZE: Record<SupportedDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
const KNOWN_UNSUPPORTED = new Set([
  'BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64',
]);

export function fail(name: string, problem: string): never {
  throw new StyleloomError('E_WEIGHTS', `${name}: ${problem}`);
}

export const CORRUPT = 'the file is truncated or corrupt — download it again';

/**
 * Reads the 8-byte prefix and returns the header length, checked against the file size.
 * Exported so that the downloader can check a header fetched on its own.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, name: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    fail(name, `${fileSize} bytes is too short for a safetensors file (it needs at least an 8-byte header length); ${CORRUPT}`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n === 0n) fail(name, `header length is 0; this is not a safetensors file or ${CORRUPT}`);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    fail(name, `header length ${n} bytes is absurdly large (limit ${MAX_HEADER_BYTES}); this is not a safetensors file or ${CORRUPT}`);
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    fail(name, `header length ${len} bytes is larger than the rest of the file (${fileSize - 8} bytes); ${CORRUPT}`);
  }
  return len;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkDtype(name: string, tensor: string, dtype: unknown): SupportedDtype {
  if (typeof dtype !== 'string') fail(name, `tensor ${tensor} has a dtype that is not a string; ${CORRUPT}`);
  if (dtype in DTYPE_SIZE) return dtype as SupportedDtype;
  const what = KNOWN_UNSUPPORTED.has(dtype) ? 'unsupported' : 'unknown';
  fail(name, `tensor ${tensor} has ${what} dtype ${JSON.stringify(dtype)}; styleloom reads F32, F16, BF16 and F64 — convert the weights to F32`);
}

function checkShape(name: string, tensor: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every(isOffset)) {
    fail(name, `tensor ${tensor} has shape ${JSON.stringify(shape)}, which is not a list of non-negative integers; ${CORRUPT}`);
  }
  return shape as number[];
}

function checkEntry(name: string, tensor: string, raw: unknown, dataSize: number): TensorEntry {
  if (!isPlainObject(raw)) fail(name, `header entry ${tensor} is not an object; ${CORRUPT}`);
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!(key in raw)) fail(name, `tensor ${tensor} has no ${key} in the header; ${CORRUPT}`);
  }
  const dtype = checkDtype(name, tensor, raw.dtype);
  const shape = checkShape(name, tensor, raw.shape);
  const off = raw.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !isOffset(off[0]) || !isOffset(off[1]) || off[1] < off[0]) {
    fail(name, `tensor ${tensor} has data_offsets ${JSON.stringify(off)}, which is not a pair [begin, end] of integers with 0 <= begin <= end; ${CORRUPT}`);
  }
  const [begin, end] = off as [number, number];
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expected)) fail(name, `tensor ${tensor} has an impossibly large shape ${JSON.stringify(shape)}; ${CORRUPT}`);
  if (end - begin !== expected) {
    fail(name, `tensor ${tensor} (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but data_offsets [${begin}, ${end}] give ${end - begin}; ${CORRUPT}`);
  }
  if (end > dataSize) {
    fail(name, `tensor ${tensor} claims bytes ${begin}..${end} but the data section has only ${dataSize} bytes; ${CORRUPT}`);
  }
  return { dtype, shape: [...shape], begin, end };
}

/**
 * Checks the JSON header (bytes after the 8-byte length) against the size of the data section
 * that follows it. `dataStart` of the result is 8 + header length.
 */
export function parseHeader(headerBytes: Uint8Array, dataSize: number, name: string): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(name, `header is not valid UTF-8; ${CORRUPT}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    fail(name, `header is not valid JSON (${why}); ${CORRUPT}`);
  }
  if (!isPlainObject(json)) fail(name, `header is not a JSON object; ${CORRUPT}`);

  const metadata: Record<string, string> = {};
  const rawMeta = json.__metadata__;
  if (rawMeta !== undefined) {
    if (!isPlainObject(rawMeta)) fail(name, `__metadata__ is not an object of strings; ${CORRUPT}`);
    for (const [k, v] of Object.entries(rawMeta)) {
      if (typeof v !== 'string') fail(name, `__metadata__ key ${k} is not a string; ${CORRUPT}`);
      metadata[k] = v;
    }
  }

  const entries = new Map<string, TensorEntry>();
  for (const [tensor, raw] of Object.entries(json)) {
    if (tensor === '__metadata__') continue;
    entries.set(tensor, checkEntry(name, tensor, raw, dataSize));
  }

  // No two tensors may share bytes (empty tensors take no space and cannot overlap).
  const byBegin = [...entries].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < byBegin.length; i++) {
    const [prevName, prev] = byBegin[i - 1];
    const [curName, cur] = byBegin[i];
    if (cur.begin < prev.end) {
      fail(name, `tensors ${prevName} (bytes ${prev.begin}..${prev.end}) and ${curName} (bytes ${cur.begin}..${cur.end}) overlap; ${CORRUPT}`);
    }
  }
  return { metadata, entries, dataStart: 8 + headerBytes.byteLength };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts the raw little-endian bytes of one tensor into a fresh, aligned Float32Array. */
export function toFloat32(bytes: Uint8Array, dtype: SupportedDtype): Float32Array {
  const n = bytes.byteLength / DTYPE_SIZE[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      if (LITTLE_ENDIAN_HOST) {
        for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      } else {
        const tmp = new DataView(out.buffer);
        for (let i = 0; i < n; i++) tmp.setUint32(i * 4, view.getUint16(i * 2, true) << 16, false);
      }
      break;
    }
  }
  return out;
}

/** Parses a whole safetensors file held in memory; `name` is used in error messages. */
export function parseSafetensors(buf: Uint8Array, name: string, options: ReadOptions = {}): Safetensors {
  const len = readHeaderLength(buf.subarray(0, 8), buf.byteLength, name);
  const header = parseHeader(buf.subarray(8, 8 + len), buf.byteLength - 8 - len, name);
  const tensors = new Map<string, Tensor>();
  for (const [tensor, e] of header.entries) {
    if (options.include && !options.include(tensor)) continue;
    const bytes = buf.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(tensor, { dtype: e.dtype, shape: [...e.shape], data: toFloat32(bytes, e.dtype) });
  }
  return { metadata: header.metadata, tensors, entries: header.entries };
}

