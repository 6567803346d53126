// The state file format (`<out>.state`): encodes a ResumeState to bytes and parses and validates them back.
//
//   bytes 0..15   magic "styleloom-state\n"
//   bytes 16..19  format version, uint32 little-endian (STATE_VERSION)
//   bytes 20..23  header length H, uint32 little-endian
//   bytes 24..    H bytes of UTF-8 JSON (space-padded so that the data starts at a multiple of 8)
//   then          the arrays of the header's table, raw little-endian float32, back to back
//
// The header holds everything else (options, counters, loss history, optimiser scalars, the SHA-256 of
// each input file, the best iterate's loss terms) plus `dataBytes` and the CRC-32 of the data, so a truncated or damaged file is
// refused, never half-used.
//
// Version 2 added the input files' SHA-256 and the scale's best iterate (`best.x`, and its loss terms). Version 1 files are refused (with their own message), not
// resumed unchecked: a resume cannot tell whether their content or style files changed since, and
// continuing on changed inputs silently optimises another problem; a new run is the honest answer.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import zlib from 'node:zlib';
import { StyleloomError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { isRecord } from '../util/guards.js';
import { VERSION } from '../version.js';
import type { InputHashes, OptimizerState, ResumeState, StateOptions, StateReason } from './types.js';
import type { StrongWolfeState } from '../optim/index.js';

export const STATE_VERSION = 2;
export const STATE_MAGIC = 'styleloom-state\n';
const PREAMBLE = 24;

interface ArrayEntry {
  name: string;
  /** Byte offset from the start of the data section. */
  offset: number;
  /** Number of float32 values. */
  length: number;
}

const LE = os.endianness() === 'LE';

function bytesOf(a: Float32Array): Uint8Array {
  if (LE) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < a.length; k++) dv.setFloat32(4 * k, a[k], true);
  return out;
}

let crcTable: Int32Array | undefined;
/** CRC-32 (IEEE), continuing from `prev`. */
function crc32(buf: Uint8Array, prev = 0): number {
  const z = zlib as unknown as { crc32?: (b: Uint8Array, v?: number) => number };
  if (typeof z.crc32 === 'function') return z.crc32(buf, prev);
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~prev;
  for (let k = 0; k < buf.length; k++) c = crcTable[(c ^ buf[k]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The arrays of a state in file order: name and the pieces (several for L-BFGS's pair lists). */
function arraysOf(s: ResumeState): [string, Float32Array[]][] {
  const list: [string, Float32Array[]][] = [['x', [s.x]]];
  if (s.ema) list.push(['ema.acc', [s.ema.acc]]);
  if (s.best) list.push(['best.x', [s.best.x]]);
  const op = s.optimizer;
  if (op.kind === 'adam') list.push(['adam.m', [op.m]], ['adam.v', [op.v]]);
  else list.push(['lbfgs.d', [op.d]], ['lbfgs.prevGrad', [op.prevGrad]], ['lbfgs.dirs', op.dirs], ['lbfgs.stps', op.stps]);
  if (op.kind === 'lbfgs' && op.search) {
    const w = op.search.wolfe;
    list.push(['lbfgs.search.x0', [op.search.x0]], ['lbfgs.search.g0', [w.g0]], ['lbfgs.search.gPrev', [w.gPrev]], ['lbfgs.search.bracketG', w.bracketG]);
  }
  return list;
}

/** The file as a list of byte chunks (the arrays are views of the state's buffers, not copies). */
export function encodeState(s: ResumeState): Uint8Array[] {
  const table: ArrayEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  let crc = 0;
  for (const [name, pieces] of arraysOf(s)) {
    let length = 0;
    for (const p of pieces) {
      const b = bytesOf(p);
      chunks.push(b);
      crc = crc32(b, crc);
      length += p.length;
    }
    table.push({ name, offset, length });
    offset += 4 * length;
  }
  const op = s.optimizer;
  // a line search in progress: its scalars here, its vectors in the arrays
  const search = op.kind === 'lbfgs' && op.search ? (({ g0, gPrev, bracketG, ...w }) => ({ ...w, gradients: bracketG.length }))(op.search.wolfe) : undefined;
  const optimizer = op.kind === 'adam' ? { kind: op.kind, t: op.t } : { kind: op.kind, nIter: op.nIter, t: op.t, hDiag: op.hDiag, ro: op.ro, search };
  const header = {
    format: 'styleloom-state',
    version: STATE_VERSION,
    software: s.software,
    createdAt: new Date().toISOString(),
    reason: s.reason,
    options: s.options,
    inputs: s.inputs,
    sizes: s.sizes,
    itersPerScale: s.itersPerScale,
    scale: s.scale,
    scaleIter: s.scaleIter,
    iter: s.iter,
    width: s.width,
    height: s.height,
    optimizer,
    ema: s.ema ? { weight: s.ema.weight } : undefined,
    best: s.best ? { loss: s.best.loss } : undefined,
    lossHistory: s.lossHistory,
    arrays: table,
    dataBytes: offset,
    crc32: crc,
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((PREAMBLE + json.length) % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const pre = Buffer.alloc(PREAMBLE);
  pre.write(STATE_MAGIC, 0, 'latin1');
  pre.writeUInt32LE(STATE_VERSION, 16);
  pre.writeUInt32LE(json.length, 20);
  return [pre, json, ...chunks];
}

/** The whole file in one buffer. */
export function serializeState(s: ResumeState): Buffer {
  return Buffer.concat(encodeState(s));
}

/** Writes `s` to `file` atomically (temp file, fsync, rename). */
export async function writeStateFile(file: string, s: ResumeState): Promise<void> {
  await writeFileAtomic(file, encodeState(s));
}

/** Reads and validates a state file; every problem is a one-line E_INPUT error. */
export async function readStateFile(file: string): Promise<ResumeState> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file; check the path' : code === 'EISDIR' ? 'is a directory; name a .state file' : `cannot read it (${code ?? String(err)})`;
    throw new StyleloomError('E_INPUT', `${file}: ${why}`, { cause: err });
  }
  return parseState(bytes, file);
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses and validates the bytes of a state file (`name` is used in the messages). */
export function parseState(bytes: Uint8Array, name = 'state'): ResumeState {
  const fail = (msg: string) => new StyleloomError('E_INPUT', `${name}: ${msg}`);
  const corrupt = (what: string) => fail(`inconsistent state (${what}); the file is corrupt — use an earlier state or start again`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREAMBLE || buf.toString('latin1', 0, 16) !== STATE_MAGIC) {
    throw fail('not a styleloom state file (they are written next to the output as <out>.state with --save-every, or on Ctrl-C)');
  }
  const version = buf.readUInt32LE(16);
  if (version === 1) {
    throw fail(`state format version 1 does not record the SHA-256 of the input files, so a resume could not tell whether they changed; start a new run without --resume (styleloom ${VERSION} reads version ${STATE_VERSION})`);
  }
  if (version !== STATE_VERSION) {
    throw fail(`state format version ${version} is not supported (styleloom ${VERSION} reads version ${STATE_VERSION}); resume it with the styleloom that wrote it`);
  }
  const hlen = buf.readUInt32LE(20);
  const truncated = (have: number, need: number) => fail(`the state file is truncated (${have} of ${need} bytes); it was not completely written — use an earlier state or start again`);
  if (PREAMBLE + hlen > buf.length) throw truncated(buf.length, PREAMBLE + hlen);
  let h: unknown;
  try {
    h = JSON.parse(buf.toString('utf8', PREAMBLE, PREAMBLE + hlen));
  } catch {
    throw fail('the state header is corrupt (not valid JSON); use an earlier state or start again');
  }
  if (!isRecord(h) || h.format !== 'styleloom-state' || h.version !== STATE_VERSION) throw corrupt('header');
  const dataStart = PREAMBLE + hlen;
  if (!isInt(h.dataBytes)) throw corrupt('dataBytes');
  if (dataStart + h.dataBytes > buf.length) throw truncated(buf.length, dataStart + h.dataBytes);
  if (dataStart + h.dataBytes < buf.length) throw fail(`the state file has ${buf.length - dataStart - h.dataBytes} bytes more than its header declares; the file is corrupt — use an earlier state or start again`);
  const data = buf.subarray(dataStart);
  if (crc32(data) !== h.crc32) throw fail('the state data is corrupt (CRC-32 mismatch); use an earlier state or start again');

  // the array table
  const arrays = new Map<string, Float32Array>();
  if (!Array.isArray(h.arrays)) throw corrupt('array table');
  for (const e of h.arrays as unknown[]) {
    if (!isRecord(e) || typeof e.name !== 'string' || !isInt(e.offset) || !isInt(e.length) || e.offset % 4 !== 0 || e.offset + 4 * e.length > data.length || arrays.has(e.name)) {
      throw corrupt(`array table entry ${JSON.stringify(e)}`);
    }
    arrays.set(e.name, floats(data, e.offset, e.length));
  }
  const arr = (n: string) => {
    const a = arrays.get(n);
    if (!a) throw corrupt(`array ${n} missing`);
    return a;
  };

  // counters and sizes
  const { sizes, itersPerScale, scale, scaleIter, iter, width, height, lossHistory, options } = h;
  if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((v) => isInt(v, 1))) throw corrupt('sizes');
  if (!Array.isArray(itersPerScale) || itersPerScale.length !== sizes.length || !itersPerScale.every((v) => isInt(v))) throw corrupt('itersPerScale does not match sizes');
  if (!isInt(scale) || scale >= sizes.length) throw corrupt(`scale index ${String(scale)} for ${sizes.length} scales`);
  if (!isInt(width, 1) || !isInt(height, 1) || Math.max(width, height) !== sizes[scale]) {
    throw corrupt(`image ${String(width)}x${String(height)} at a scale of ${sizes[scale]} px`);
  }
  if (!Array.isArray(lossHistory) || !lossHistory.every(isNum)) throw corrupt('loss history');
  if (!isInt(iter) || iter !== lossHistory.length) throw corrupt(`iteration ${String(iter)} with ${lossHistory.length} losses`);
  const before = (itersPerScale as number[]).slice(0, scale).reduce((a, b) => a + b, 0);
  if (!isInt(scaleIter) || scaleIter > itersPerScale[scale] || before + scaleIter !== iter) {
    throw corrupt(`iteration ${iter} at scale ${scale + 1} (${String(scaleIter)} there)`);
  }
  if (!isRecord(options) || !(typeof options.content === 'string' || options.content === null) || !Array.isArray(options.styles)) throw corrupt('options');
  if (!['save', 'abort', 'end'].includes(h.reason as string)) throw corrupt('reason');
  const inputs = h.inputs;
  const isHash = (v: unknown) => v === null || (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v));
  if (!isRecord(inputs) || !isHash(inputs.content) || !isHash(inputs.init) || !Array.isArray(inputs.styles) || inputs.styles.length !== options.styles.length || !inputs.styles.every(isHash)) {
    throw corrupt('input hashes');
  }
  const hashList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every(isHash));
  if (!(inputs.mask === undefined || isHash(inputs.mask)) || !hashList(inputs.styleMasks) || !hashList(inputs.styleRegions)) throw corrupt('mask hashes');
  const n = 3 * width * height;
  const x = arr('x');
  if (x.length !== n) throw corrupt(`the image has ${x.length} values but ${width}x${height} needs ${n}`);

  // optimiser
  const op = h.optimizer;
  if (!isRecord(op) || op.kind !== options.optimizer) throw corrupt('optimizer kind');
  const vec = (name: string, empty: boolean) => {
    const a = arr(name);
    if (a.length !== n && !(empty && a.length === 0)) throw corrupt(`${name} has ${a.length} values for an image of ${n}`);
    return a;
  };
  let optimizer: OptimizerState;
  if (op.kind === 'adam') {
    if (!isInt(op.t)) throw corrupt('adam.t');
    optimizer = { kind: 'adam', t: op.t, m: vec('adam.m', op.t === 0), v: vec('adam.v', op.t === 0) };
  } else if (op.kind === 'lbfgs') {
    if (!isInt(op.nIter) || !isNum(op.t) || !isNum(op.hDiag) || !Array.isArray(op.ro) || !op.ro.every(isNum)) throw corrupt('lbfgs scalars');
    const k = op.ro.length;
    const dirs = arr('lbfgs.dirs');
    const stps = arr('lbfgs.stps');
    if (dirs.length !== k * n || stps.length !== k * n) throw corrupt(`lbfgs pairs: ${k} pairs need ${k * n} values each`);
    optimizer = {
      kind: 'lbfgs',
      nIter: op.nIter,
      t: op.t,
      hDiag: op.hDiag,
      ro: op.ro as number[],
      d: vec('lbfgs.d', op.nIter === 0),
      prevGrad: vec('lbfgs.prevGrad', op.nIter === 0),
      dirs: Array.from({ length: k }, (_, i) => dirs.subarray(i * n, (i + 1) * n)),
      stps: Array.from({ length: k }, (_, i) => stps.subarray(i * n, (i + 1) * n)),
    };
    if (op.search !== undefined) {
      // checked in full by the optimiser's setState (StrongWolfe.checkState)
      if (!isRecord(op.search) || !isInt(op.search.gradients) || op.search.gradients > 2) throw corrupt('lbfgs line search');
      const m = op.search.gradients;
      const bg = arr('lbfgs.search.bracketG');
      if (bg.length !== m * n) throw corrupt(`lbfgs line search: ${m} gradients need ${m * n} values`);
      const { gradients: _, ...w } = op.search;
      optimizer.search = {
        x0: vec('lbfgs.search.x0', false),
        wolfe: { ...w, g0: vec('lbfgs.search.g0', false), gPrev: vec('lbfgs.search.gPrev', false), bracketG: Array.from({ length: m }, (_, i) => bg.subarray(i * n, (i + 1) * n)) } as StrongWolfeState,
      };
    }
  } else throw corrupt('optimizer kind');

  let ema: ResumeState['ema'];
  if (h.ema !== undefined) {
    if (!isRecord(h.ema) || !isNum(h.ema.weight)) throw corrupt('ema');
    ema = { weight: h.ema.weight, acc: vec('ema.acc', false) };
  }
  if ((typeof options.ema === 'number' && options.ema > 0) !== Boolean(ema)) throw corrupt('ema');

  let best: ResumeState['best'];
  if (h.best !== undefined) {
    const l = isRecord(h.best) ? h.best.loss : undefined;
    if (ema || !isRecord(l) || !isNum(l.content) || !isNum(l.style) || !isNum(l.tv) || !isNum(l.total)) throw corrupt('best iterate');
    best = { loss: { content: l.content, style: l.style, tv: l.tv, total: l.total }, x: vec('best.x', false) };
  } else if (!ema && scaleIter > 0) throw corrupt(`no best iterate after ${scaleIter} iterations at scale ${scale + 1}`);

  return {
    version: STATE_VERSION,
    software: typeof h.software === 'string' ? h.software : 'unknown',
    reason: h.reason as StateReason,
    options: options as StateOptions,
    inputs: inputs as unknown as InputHashes,
    sizes: sizes as number[],
    itersPerScale: itersPerScale as number[],
    scale,
    scaleIter,
    iter,
    width,
    height,
    lossHistory: lossHistory as number[],
    x,
    optimizer,
    ema,
    best,
  };
}

/** float32 values at `offset` of `data`: a view when aligned (and little-endian), else a copy. */
function floats(data: Buffer, offset: number, length: number): Float32Array {
  const at = data.byteOffset + offset;
  if (LE && at % 4 === 0) return new Float32Array(data.buffer, at, length);
  const out = new Float32Array(length);
  for (let k = 0; k < length; k++) out[k] = data.readFloatLE(offset + 4 * k);
  return out;
}
