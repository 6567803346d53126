// The trained network file: safetensors with the parameters (<layer>.weight/.scale/.shift, float32) and metadata
// (architecture and layers, training parameters, the style's SHA-256, the training-set manifest, licence); a
// checkpoint adds Adam's moments and the training state. Both read back checked: metadata that does not match the
// tensors is refused with one E_WEIGHTS line.
import { StyleloomError } from '../errors.js';
import type { FastCheckpoint, FastLayer, FastLayerKind } from '../fast/checkpoint-format.js';
import { parseSafetensors, type Safetensors } from '../model/safetensors-format.js';
import { encodeSafetensors, type TensorToWrite } from '../model/safetensors-write.js';
import { layerShapes, paramTensors, weightShapeOf, type Architecture, type LayerShape } from './architecture.js';

export const NETWORK_FORMAT = 'styleloom-fast-network';
export const CHECKPOINT_FORMAT = 'styleloom-train-checkpoint';
export const FORMAT_VERSION = '1';

/** The licence field written when the user gives none: what applies to the weights, honestly unknown. */
export const DEFAULT_LICENCE = 'unspecified: the network is derived from the style image and training photos listed here; their licences apply';

/** What a network file says about itself besides its tensors. */
export interface NetworkInfo {
  architecture: Architecture;
  /** Training parameters (options, iterations done, final loss), as written. */
  training: Record<string, unknown>;
  style: { file: string; sha256: string };
  /** The training photos: path relative to the folder, SHA-256. */
  manifest: { file: string; sha256: string }[];
  licence: string;
}

/** The training state a checkpoint adds (Adam's moments are tensors). */
export interface TrainState {
  iteration: number;
  adamT: number;
  rng: { words: [number, number, number, number]; spare: number | null };
  lossHistory: number[];
  /** Seconds of training so far, over every resumed run (absent in checkpoints written before it was recorded). */
  seconds?: number;
  /** The run's options, so that --resume continues with them. */
  options: Record<string, unknown>;
}

const LAYER_KINDS: readonly FastLayerKind[] = ['conv', 'convT', 'upconv'];

function metadataOf(info: NetworkInfo, layers: readonly LayerShape[], format: string): Record<string, string> {
  return {
    format,
    format_version: FORMAT_VERSION,
    architecture: JSON.stringify(info.architecture),
    layers: JSON.stringify(layers.map(({ name, kind, kernel, stride, cin, cout, relu, pad }) => (pad ? { name, kind, kernel, stride, cin, cout, relu, pad } : { name, kind, kernel, stride, cin, cout, relu }))),
    training: JSON.stringify(info.training),
    style_file: info.style.file,
    style_sha256: info.style.sha256,
    training_set: JSON.stringify(info.manifest),
    licence: info.licence,
  };
}

/** How a network file is written besides its content: the parameters' precision and metadata fields added. */
export interface NetworkFileOptions {
  /** F16 halves the file (a built-in network's form); F32 (default) is what training writes. */
  dtype?: 'F32' | 'F16';
  /** More metadata fields (e.g. `builtin`); they cannot replace the ones the reader checks. */
  extra?: Record<string, string>;
}

/** The network file's bytes (as chunks): the parameters and the metadata. */
export function encodeNetworkFile(net: FastCheckpoint, info: NetworkInfo, options: NetworkFileOptions = {}): Uint8Array[] {
  const meta = metadataOf(info, net.layers, NETWORK_FORMAT);
  for (const k of Object.keys(options.extra ?? {})) if (k in meta) throw new StyleloomError('E_INTERNAL', `network file: metadata field ${k} is the format's own`);
  const tensors = paramTensors(net).map((t) => ({ ...t, dtype: options.dtype }));
  return encodeSafetensors(tensors, { ...meta, ...options.extra });
}

/** A checkpoint's bytes: the network file's content plus Adam's moments (flat, parameter order) and the state. */
export function encodeCheckpoint(net: FastCheckpoint, info: NetworkInfo, state: TrainState, m: Float32Array, v: Float32Array): Uint8Array[] {
  const tensors: TensorToWrite[] = [...paramTensors(net), { name: 'adam.m', shape: [m.length], data: m }, { name: 'adam.v', shape: [v.length], data: v }];
  return encodeSafetensors(tensors, { ...metadataOf(info, net.layers, CHECKPOINT_FORMAT), state: JSON.stringify(state) });
}

const bad = (file: string, problem: string): never => {
  throw new StyleloomError('E_WEIGHTS', `${file}: ${problem}`);
};

function json(file: string, meta: Record<string, string>, key: string): unknown {
  const text = meta[key];
  if (text === undefined) bad(file, `its metadata has no ${key}; the network file is incomplete or not styleloom's`);
  try {
    return JSON.parse(text);
  } catch {
    return bad(file, `its metadata field ${key} is not valid JSON; the network file is corrupt`);
  }
}

function checkLayers(file: string, raw: unknown, arch: Architecture): LayerShape[] {
  if (!Array.isArray(raw) || raw.length < 2) return bad(file, 'its metadata lists no layers; the network file is corrupt');
  const layers = raw.map((l, k): LayerShape => {
    const o = l as Partial<LayerShape>;
    const ints = [o.kernel, o.stride, o.cin, o.cout].every((v) => Number.isInteger(v) && (v as number) > 0);
    if (typeof o.name !== 'string' || !LAYER_KINDS.includes(o.kind as FastLayerKind) || !ints || typeof o.relu !== 'boolean') {
      bad(file, `layer ${k} of its metadata is not {name, kind, kernel, stride, cin, cout, relu}; the network file is corrupt`);
    }
    return o as LayerShape;
  });
  let prev = 3;
  for (const l of layers) {
    if (l.cin !== prev) bad(file, `its metadata's layer ${l.name} takes ${l.cin} channels but the layer before gives ${prev}; the network file is corrupt`);
    prev = l.cout;
  }
  if (prev !== 3) bad(file, `its metadata's last layer gives ${prev} channels, not 3 (RGB); the network file is corrupt`);
  const expected = layerShapes(arch);
  const same = expected.length === layers.length && expected.every((e, k) => JSON.stringify(e) === JSON.stringify(layers[k]));
  if (!same) bad(file, `its metadata's layers do not match its architecture (${arch.name}, channels ${arch.channels.join('/')}, ${arch.upsample} upsampling); the network file is corrupt`);
  return layers;
}

function checkArchitecture(file: string, raw: unknown): Architecture {
  const a = raw as Partial<Architecture>;
  const ok = a && a.name === 'johnson2016' && (a.upsample === 'resize' || a.upsample === 'transposed') && Array.isArray(a.channels) && a.channels.length === 3 && Number.isInteger(a.residualBlocks) && (a.padding === undefined || a.padding === 'zero' || a.padding === 'reflect');
  if (!ok) bad(file, 'its metadata does not describe a johnson2016 network (architecture {name, width, upsample, channels, residualBlocks, padding}); the network file is corrupt or of another kind');
  return a as Architecture;
}

export interface ReadNetwork {
  net: FastCheckpoint;
  info: NetworkInfo;
  /** Present in a checkpoint. */
  state?: TrainState;
  adam?: { m: Float32Array; v: Float32Array };
}

/** Parses a network file or checkpoint from its bytes; every mismatch of metadata and tensors is one E_WEIGHTS line. */
export function parseNetworkFile(bytes: Uint8Array, file: string, name: string): ReadNetwork {
  const st: Safetensors = parseSafetensors(bytes, file);
  const meta = st.metadata;
  if (meta.format !== NETWORK_FORMAT && meta.format !== CHECKPOINT_FORMAT) {
    bad(file, `not a styleloom network file (its metadata format is ${JSON.stringify(meta.format ?? null)}, expected ${NETWORK_FORMAT}); train one with styleloom train`);
  }
  if (meta.format_version !== FORMAT_VERSION) bad(file, `network file format version ${JSON.stringify(meta.format_version ?? null)} is not one this styleloom reads (${FORMAT_VERSION})`);
  const architecture = checkArchitecture(file, json(file, meta, 'architecture'));
  const shapes = checkLayers(file, json(file, meta, 'layers'), architecture);
  const expectedNames = new Set<string>();
  const layers = shapes.map((l): FastLayer => {
    const get = (suffix: string, shape: readonly number[]): Float32Array => {
      const key = `${l.name}.${suffix}`;
      expectedNames.add(key);
      const t = st.tensors.get(key);
      if (!t) return bad(file, `has no tensor ${key}, which its metadata's layer ${l.name} needs; the metadata does not match the tensors`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        bad(file, `tensor ${key} has shape [${t.shape}] but its metadata's layer ${l.name} needs [${shape}]; the metadata does not match the tensors`);
      }
      const nonFinite = t.data.findIndex((x) => !Number.isFinite(x));
      if (nonFinite >= 0) bad(file, `tensor ${key} holds ${t.data[nonFinite]} at element ${nonFinite}; the network file is corrupt`);
      return t.data;
    };
    const weightShape = weightShapeOf(l);
    return { ...l, weight: get('weight', weightShape), weightShape, scale: get('scale', [l.cout]), shift: get('shift', [l.cout]) };
  });
  const isCkpt = meta.format === CHECKPOINT_FORMAT;
  for (const k of st.tensors.keys()) {
    if (!expectedNames.has(k) && !(isCkpt && (k === 'adam.m' || k === 'adam.v'))) bad(file, `has a tensor ${k} its metadata does not list; the metadata does not match the tensors`);
  }
  const net: FastCheckpoint = { dir: file, name, layers, params: layers.reduce((p, l) => p + l.weight.length + 2 * l.cout, 0) };
  const info: NetworkInfo = {
    architecture,
    training: json(file, meta, 'training') as Record<string, unknown>,
    style: { file: meta.style_file ?? '', sha256: meta.style_sha256 ?? '' },
    manifest: json(file, meta, 'training_set') as NetworkInfo['manifest'],
    licence: meta.licence ?? '',
  };
  if (!isCkpt) return { net, info };
  const state = json(file, meta, 'state') as TrainState;
  const m = st.tensors.get('adam.m')?.data;
  const v = st.tensors.get('adam.v')?.data;
  if (!m || !v || m.length !== net.params || v.length !== net.params) bad(file, `its Adam moments are missing or not of the network's ${net.params} parameters; the checkpoint is corrupt`);
  const okState = state && Number.isInteger(state.iteration) && state.iteration >= 0 && Number.isInteger(state.adamT) && Array.isArray(state.lossHistory) && state.lossHistory.length === state.iteration && state.rng && Array.isArray(state.rng.words) && typeof state.options === 'object';
  if (!okState) bad(file, 'its training state (iteration, Adam step, RNG, loss history, options) is incomplete; the checkpoint is corrupt');
  return { net, info, state, adam: { m: m!, v: v! } };
}
