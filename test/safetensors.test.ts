// Tests for the safetensors reader: the real fixture files, dtype conversion, and one clear
// E_WEIGHTS line for every kind of corrupt or truncated file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StyleloomError } from '../src/errors.js';
import { parseSafetensors, readSafetensors, toFloat32 } from '../src/model/safetensors.js';
import { encodeSafetensors, floatToHalf } from '../src/model/safetensors-write.js';
import { buildSafetensors, rawSafetensors } from './helpers/model-safetensors.js';

const TINY = '/work/shared/fixtures/tiny/weights.safetensors';
const PARTIAL = '/work/shared/assets/models/vgg19-conv1_1-conv3_4.safetensors';

function rawFloat(path: string, tensorOffset: number, headerLen: number, i: number): number {
  return readFileSync(path).readFloatLE(8 + headerLen + tensorOffset + i * 4);
}

function throwsWeights(fn: () => unknown, re: RegExp, code = 'E_WEIGHTS'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StyleloomError, `expected StyleloomError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `message must be one line: ${e.message}`);
    return true;
  });
}

test('reads the tiny fixture: metadata, shapes and values equal the raw bytes', async () => {
  const st = await readSafetensors(TINY);
  assert.equal(st.metadata.preprocess, 'caffe-bgr');
  assert.equal(st.metadata.layers, 'conv1_1,conv1_2,conv2_1');
  assert.deepEqual([...st.tensors.keys()].sort(), ['features.0.bias', 'features.0.weight', 'features.2.bias', 'features.2.weight', 'features.5.bias', 'features.5.weight']);
  assert.deepEqual(st.tensors.get('features.0.weight')!.shape, [4, 3, 3, 3]);
  assert.deepEqual(st.tensors.get('features.2.weight')!.shape, [6, 4, 3, 3]);
  assert.deepEqual(st.tensors.get('features.5.weight')!.shape, [8, 6, 3, 3]);
  const headerLen = Number(readFileSync(TINY).readBigUInt64LE(0));
  const w2 = st.tensors.get('features.2.weight')!;
  assert.equal(w2.dtype, 'F32');
  assert.equal(w2.data.length, 6 * 4 * 9);
  const begin = st.entries.get('features.2.weight')!.begin;
  for (const i of [0, 1, 100, 215]) assert.equal(w2.data[i], rawFloat(TINY, begin, headerLen, i));
  // The same via the in-memory parser.
  const mem = parseSafetensors(readFileSync(TINY), 'weights.safetensors');
  assert.deepEqual(mem.tensors.get('features.5.bias')!.data, st.tensors.get('features.5.bias')!.data);
});

test('reads the partial real VGG-19 file: 16 tensors, shapes, metadata, values', async () => {
  const st = await readSafetensors(PARTIAL);
  assert.equal(st.tensors.size, 16);
  assert.equal(st.metadata.preprocess, 'caffe-bgr');
  assert.equal(st.metadata.mean_bgr, '103.939,116.779,123.68');
  const shapes: Record<string, number[]> = {
    'features.0.weight': [64, 3, 3, 3], 'features.2.weight': [64, 64, 3, 3], 'features.5.weight': [128, 64, 3, 3],
    'features.7.weight': [128, 128, 3, 3], 'features.10.weight': [256, 128, 3, 3], 'features.12.weight': [256, 256, 3, 3],
    'features.14.weight': [256, 256, 3, 3], 'features.16.weight': [256, 256, 3, 3], 'features.16.bias': [256],
  };
  for (const [k, s] of Object.entries(shapes)) assert.deepEqual(st.tensors.get(k)!.shape, s, k);
  const headerLen = Number(readFileSync(PARTIAL).readBigUInt64LE(0));
  for (const k of ['features.0.weight', 'features.16.bias', 'features.12.weight']) {
    const t = st.tensors.get(k)!;
    const e = st.entries.get(k)!;
    for (const i of [0, 7, t.data.length - 1]) assert.equal(t.data[i], rawFloat(PARTIAL, e.begin, headerLen, i), `${k}[${i}]`);
    assert.equal(t.data.byteOffset % 4, 0);
  }
});

test('include loads only the chosen tensors but still lists every entry', async () => {
  const st = await readSafetensors(PARTIAL, { include: (n) => n.startsWith('features.0.') });
  assert.deepEqual([...st.tensors.keys()].sort(), ['features.0.bias', 'features.0.weight']);
  assert.equal(st.entries.size, 16);
});

test('F16, BF16 and F64 are converted to Float32Array', () => {
  const vals = [1, -2, 0.5, 65504];
  const f16 = Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]).buffer);
  const bf16 = Buffer.from(new Uint16Array([0x3f80, 0xc000, 0x3f00, 0x4780]).buffer);
  const f64 = Buffer.from(new Float64Array(vals).buffer);
  const st = parseSafetensors(
    buildSafetensors([
      { name: 'h', shape: [4], dtype: 'F16', bytes: f16 },
      { name: 'b', shape: [2, 2], dtype: 'BF16', bytes: bf16 },
      { name: 'd', shape: [4], dtype: 'F64', bytes: f64 },
      { name: 'empty', shape: [0, 3], dtype: 'F32', bytes: new Uint8Array(0) },
    ]),
    'mixed.safetensors',
  );
  assert.deepEqual([...st.tensors.get('h')!.data], vals);
  assert.deepEqual([...st.tensors.get('b')!.data], [1, -2, 0.5, 65536]);
  assert.deepEqual([...st.tensors.get('d')!.data], vals);
  assert.equal(st.tensors.get('empty')!.data.length, 0);
  assert.ok(Number.isNaN(toFloat32(Buffer.from(new Uint16Array([0x7e00]).buffer), 'F16')[0]));
  assert.equal(toFloat32(Buffer.from(new Uint16Array([0x0001]).buffer), 'F16')[0], 2 ** -24);
});

test('F16 writing: every finite half value survives write + read exactly; others round to the nearest, ties to even', () => {
  // all 63488 finite halves (both signs), decoded by the reader, written again: the same bits
  const bits = new Uint16Array(0x10000).map((_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
  const decoded = toFloat32(Buffer.from(bits.buffer), 'F16');
  for (let i = 0; i < bits.length; i++) if (floatToHalf(decoded[i]) !== bits[i]) assert.fail(`half 0x${bits[i].toString(16)} came back as 0x${floatToHalf(decoded[i]).toString(16)}`);
  // between neighbours: nearest wins, a tie goes to the even mantissa; tiny values go to (signed) zero
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie between 1 and 1+2^-10: even (1)
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie between 1+2^-10 and 1+2^-9: even
  assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.equal(floatToHalf(2 ** -25), 0); // half the smallest subnormal: tie to even (0)
  assert.equal(floatToHalf(1.5 * 2 ** -24), 0x0002); // tie between subnormals 1 and 2: even
  assert.equal(floatToHalf(-1e-9), 0x8000);
  assert.equal(floatToHalf(65520), 0x7c00); // rounds past the largest half
  const vals = Float32Array.from([0.1, -3.14159, 1e-5, 1000.7, 0]);
  const st = parseSafetensors(Buffer.concat(encodeSafetensors([{ name: 'w', shape: [5], data: vals, dtype: 'F16' }], { a: 'b' })), 'h.safetensors');
  assert.equal(st.entries.get('w')!.dtype, 'F16');
  assert.equal(st.metadata.a, 'b');
  const back = st.tensors.get('w')!.data;
  for (let i = 0; i < vals.length; i++) assert.ok(Math.abs(back[i] - vals[i]) <= Math.abs(vals[i]) * 2 ** -11 + 2 ** -25, `${vals[i]} -> ${back[i]}`);
  assert.throws(() => encodeSafetensors([{ name: 'w', shape: [1], data: Float32Array.from([7e4]), dtype: 'F16' }]), /beyond half precision/);
});

const okEntry = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
const data8 = new Uint8Array(8);

test('corrupt files give one-line E_WEIGHTS errors naming the file and the problem', () => {
  const N = 'bad.safetensors';
  const parse = (b: Uint8Array) => () => parseSafetensors(b, N);
  throwsWeights(parse(Buffer.alloc(5)), /^bad\.safetensors: 5 bytes is too short .*download it again$/);
  throwsWeights(parse(Buffer.alloc(16)), /^bad\.safetensors: header length is 0/);
  const beyond = Buffer.alloc(20);
  beyond.writeBigUInt64LE(1000n);
  throwsWeights(parse(beyond), /header length 1000 bytes is larger than the rest of the file \(12 bytes\)/);
  const huge = Buffer.alloc(20);
  huge.writeBigUInt64LE(0xffffffffffffffffn);
  throwsWeights(parse(huge), /header length 18446744073709551615 bytes is absurdly large/);
  throwsWeights(parse(rawSafetensors(null, data8, '{"a": [1, 2')), /header is not valid JSON/);
  const badUtf8 = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0, 0x22, 0xff, 0xfe, 0x22]), data8]);
  throwsWeights(parse(badUtf8), /header is not valid UTF-8/);
  throwsWeights(parse(rawSafetensors([1, 2], data8)), /header is not a JSON object/);
  throwsWeights(parse(rawSafetensors({ __metadata__: { a: 1 }, t: okEntry }, data8)), /__metadata__ key a is not a string/);
  throwsWeights(parse(rawSafetensors({ t: 5 }, data8)), /header entry t is not an object/);
  throwsWeights(parse(rawSafetensors({ t: { shape: [2], data_offsets: [0, 8] } }, data8)), /tensor t has no dtype in the header/);
  throwsWeights(parse(rawSafetensors({ t: { dtype: 'F32', data_offsets: [0, 8] } }, data8)), /tensor t has no shape/);
  throwsWeights(parse(rawSafetensors({ t: { dtype: 'F32', shape: [2] } }, data8)), /tensor t has no data_offsets/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, dtype: 'I64', shape: [1] } }, data8)), /tensor t has unsupported dtype "I64"; styleloom reads F32, F16, BF16 and F64/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, dtype: 'Q9' } }, data8)), /tensor t has unknown dtype "Q9"/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, shape: [-2] } }, data8)), /shape \[-2\], which is not a list of non-negative integers/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, shape: [1.5] } }, data8)), /not a list of non-negative integers/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, shape: '2' } }, data8)), /not a list of non-negative integers/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, shape: [3] } }, data8)), /tensor t \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 8\] give 8/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, data_offsets: [-4, 4] } }, data8)), /data_offsets \[-4,4\], which is not a pair/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, data_offsets: [8, 0] } }, data8)), /which is not a pair/);
  throwsWeights(parse(rawSafetensors({ t: { ...okEntry, data_offsets: [0] } }, data8)), /which is not a pair/);
  throwsWeights(
    parse(rawSafetensors({ 'features.0.weight': { dtype: 'F32', shape: [4, 3, 3, 3], data_offsets: [0, 432] } }, new Uint8Array(100))),
    /^bad\.safetensors: tensor features\.0\.weight claims bytes 0\.\.432 but the data section has only 100 bytes; the file is truncated or corrupt — download it again$/,
  );
  throwsWeights(
    parse(rawSafetensors({ a: okEntry, b: { ...okEntry, data_offsets: [4, 12] } }, new Uint8Array(16))),
    /tensors a \(bytes 0\.\.8\) and b \(bytes 4\.\.12\) overlap/,
  );
});

test('readSafetensors: missing file is E_INPUT, truncated copy of the real file is E_WEIGHTS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'styleloom-st-'));
  await assert.rejects(readSafetensors(join(dir, 'nope.safetensors')), (e: unknown) => e instanceof StyleloomError && e.code === 'E_INPUT' && /nope\.safetensors: no such weights file/.test(e.message));
  await assert.rejects(readSafetensors(dir), (e: unknown) => e instanceof StyleloomError && e.code === 'E_INPUT');
  const full = readFileSync(PARTIAL);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, full.subarray(0, 100_000));
  await assert.rejects(readSafetensors(cut), (e: unknown) =>
    e instanceof StyleloomError && e.code === 'E_WEIGHTS' && e.message.startsWith(cut) && /claims bytes .* but the data section has only 98232 bytes/.test(e.message));
  const headless = join(dir, 'headless.safetensors');
  writeFileSync(headless, full.subarray(0, 500));
  await assert.rejects(readSafetensors(headless), (e: unknown) =>
    e instanceof StyleloomError && e.code === 'E_WEIGHTS' && /header length 1760 bytes is larger than the rest of the file \(492 bytes\)/.test(e.message));
  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, Buffer.alloc(3));
  await assert.rejects(readSafetensors(tiny), (e: unknown) => e instanceof StyleloomError && e.code === 'E_WEIGHTS' && /3 bytes is too short/.test(e.message));
});
