// The feed-forward checkpoint layout (lengstrom/ml5: manifest.json + raw float32 files Variable ..
// Variable_47), checked against the architecture from bytes already read; E_WEIGHTS otherwise. Browser-safe.
import { StyleloomError } from '../errors.js';

/** conv; convT: stride-2 transposed conv; upconv: nearest 2x upsampling, then a stride-1 conv (resize-convolution). */
export type FastLayerKind = 'conv' | 'convT' | 'upconv';

/** One layer of the transform network: convolution (no bias), instance norm, optional ReLU. */
export interface FastLayer {
  /** Short name used in messages and graph names: conv1, res3a, up1, out, ... */
  name: string;
  kind: FastLayerKind;
  kernel: number;
  stride: number;
  cin: number;
  cout: number;
  relu: boolean;
  /** Reflection padding before the convolution instead of zero padding (styleloom's own networks; absent: zeros, as the demo checkpoints). */
  pad?: 'reflect';
  /** ONNX layout: conv and upconv OIHW [cout, cin, k, k]; transposed conv [cin, cout, k, k]. */
  weight: Float32Array;
  weightShape: [number, number, number, number];
  /** Instance-norm shift (beta) and scale (gamma), [cout] each. */
  shift: Float32Array;
  scale: Float32Array;
}

export interface FastCheckpoint {
  /** The model folder (absolute) and its base name (e.g. "wave"). */
  dir: string;
  name: string;
  /** 16 layers in order: 3 down convs, 5 residual blocks x 2 convs, 2 transposed convs, output conv. */
  layers: FastLayer[];
  params: number;
}

interface LayerSpec {
  name: string;
  kind: FastLayerKind;
  kernel: number;
  stride: number;
  relu: boolean;
}

/** The architecture (ARCHITECTURE.txt): layer k owns Variable_{3k} (kernel), _{3k+1} (IN shift), _{3k+2} (IN scale). */
export const FAST_LAYERS: readonly LayerSpec[] = [
  { name: 'conv1', kind: 'conv', kernel: 9, stride: 1, relu: true },
  { name: 'conv2', kind: 'conv', kernel: 3, stride: 2, relu: true },
  { name: 'conv3', kind: 'conv', kernel: 3, stride: 2, relu: true },
  ...[1, 2, 3, 4, 5].flatMap((r): LayerSpec[] => [
    { name: `res${r}a`, kind: 'conv', kernel: 3, stride: 1, relu: true },
    { name: `res${r}b`, kind: 'conv', kernel: 3, stride: 1, relu: false },
  ]),
  { name: 'up1', kind: 'convT', kernel: 3, stride: 2, relu: true },
  { name: 'up2', kind: 'convT', kernel: 3, stride: 2, relu: true },
  { name: 'out', kind: 'conv', kernel: 9, stride: 1, relu: false },
];

export const FAST_VARIABLES = FAST_LAYERS.length * 3;

export const variableName = (i: number): string => (i === 0 ? 'Variable' : `Variable_${i}`);

export interface Entry {
  filename: string;
  shape: number[];
}

export const fail = (where: string, problem: string): never => {
  throw new StyleloomError('E_WEIGHTS', `${where}: ${problem}`);
};

/** Reads and checks the manifest; returns the entries of Variable .. Variable_47 (other keys are ignored). */
export function parseManifest(text: string, file: string): Entry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message.split('\n')[0]}); restore the model's manifest.json`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(file, 'expected a JSON object mapping variable names to {"filename", "shape"}; restore the model\'s manifest.json');
  }
  const man = json as Record<string, unknown>;
  const entries: Entry[] = [];
  for (let i = 0; i < FAST_VARIABLES; i++) {
    const key = variableName(i);
    const e = man[key];
    if (e === undefined) {
      fail(file, `no entry for ${key}; a fast-style checkpoint lists Variable, Variable_1 .. Variable_${FAST_VARIABLES - 1}`);
    }
    const o = e as { filename?: unknown; shape?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.filename !== 'string' || !Array.isArray(o.shape)) {
      fail(file, `entry ${key} must be {"filename": string, "shape": [integers]}`);
    }
    const filename = o.filename as string;
    if (filename === '' || filename === '.' || filename === '..' || /[/\\\0]/.test(filename)) {
      fail(file, `entry ${key} names ${JSON.stringify(filename)}; a filename must be a plain name inside the model folder`);
    }
    const shape = o.shape as unknown[];
    if (shape.length === 0 || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
      fail(file, `entry ${key} has shape ${JSON.stringify(shape)}; expected a list of positive integers`);
    }
    entries.push({ filename, shape: shape as number[] });
  }
  return entries;
}

/** TF [A, B, C, D] -> [D, C, A, B] (transpose(3, 2, 0, 1)): HWIO -> OIHW, and [kh, kw, out, in] -> [in, out, kh, kw]. */
export function tfToOnnx(src: Float32Array, [a, b, c, d]: number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++)
      for (let k = 0; k < c; k++)
        for (let l = 0; l < d; l++) out[((l * c + k) * a + i) * b + j] = src[((i * b + j) * c + k) * d + l];
  return out;
}

export const shapeText = (s: readonly (number | string)[]) => `[${s.join(',')}]`;

/** Checks the 48 shapes against the architecture; returns [cin, cout] of each layer. */
export function checkShapes(entries: Entry[], where: (i: number) => string): [number, number][] {
  const channels: [number, number][] = [];
  let prev = 3; // RGB in
  FAST_LAYERS.forEach((spec, k) => {
    const [wi, si, gi] = [3 * k, 3 * k + 1, 3 * k + 2];
    const s = entries[wi].shape;
    const k2 = spec.kernel;
    // TF layouts: conv [kh, kw, in, out]; conv2d_transpose [kh, kw, out, in]
    const [cin, cout] = spec.kind === 'conv' ? [s[2], s[3]] : [s[3], s[2]];
    const expected = spec.kind === 'conv' ? [k2, k2, prev, 'C'] : [k2, k2, 'C', prev];
    const bad = s.length !== 4 || s[0] !== k2 || s[1] !== k2 || cin !== prev;
    const residualIn = spec.name.startsWith('res') ? prev : undefined;
    const lastOut = k === FAST_LAYERS.length - 1 ? 3 : undefined;
    const want = residualIn ?? lastOut;
    if (bad || (want !== undefined && cout !== want)) {
      const exp = want === undefined ? shapeText(expected) : shapeText(expected.map((v) => (v === 'C' ? want : v)));
      fail(
        where(wi),
        `shape ${shapeText(s)} does not fit the network: ${variableName(wi)} is the ${spec.kernel}x${spec.kernel} ` +
          `${spec.kind === 'conv' ? 'conv' : 'transposed conv'} kernel of layer ${k} (${spec.name}), expected ${exp}; this is not a fast-style checkpoint of this layout`,
      );
    }
    for (const [vi, what] of [[si, 'shift'], [gi, 'scale']] as const) {
      const p = entries[vi].shape;
      if (p.length !== 1 || p[0] !== cout) {
        fail(where(vi), `shape ${shapeText(p)} does not fit the network: ${variableName(vi)} is the instance-norm ${what} of layer ${k} (${spec.name}), expected [${cout}]`);
      }
    }
    channels.push([cin, cout]);
    prev = cout;
  });
  return channels;
}


/** The float32 values of one Variable file (little-endian bytes), checked against its shape and for NaN/Inf. */
export function variableFromBytes(bytes: Uint8Array, file: string, key: string, shape: number[]): Float32Array {
  const count = shape.reduce((p, d) => p * d, 1);
  if (bytes.length !== count * 4) {
    fail(file, `${bytes.length} bytes, but ${key} has shape ${shapeText(shape)}, which needs ${count * 4} (float32); the file is truncated or corrupt`);
  }
  const data = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) new Uint8Array(data.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(data[i])) fail(file, `value ${i} of ${key} is ${data[i]}; the file is corrupt`);
  }
  return data;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The checkpoint from its checked manifest entries, their [cin, cout] and the 48 arrays (TF layout). */
export function assembleCheckpoint(dir: string, name: string, entries: Entry[], channels: [number, number][], data: Float32Array[]): FastCheckpoint {
  const layers = FAST_LAYERS.map((spec, k): FastLayer => {
    const [cin, cout] = channels[k];
    const kk = spec.kernel;
    return {
      ...spec,
      cin,
      cout,
      weight: tfToOnnx(data[3 * k], entries[3 * k].shape),
      weightShape: spec.kind === 'conv' ? [cout, cin, kk, kk] : [cin, cout, kk, kk],
      shift: data[3 * k + 1],
      scale: data[3 * k + 2],
    };
  });
  return { dir, name, layers, params: data.reduce((p, d) => p + d.length, 0) };
}
