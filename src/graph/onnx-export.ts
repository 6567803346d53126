// Lowers an IR graph to an ONNX ModelProto (IR version 8, opset 17) and serialises it with onnx-proto
// (protobufjs). Graph constants become initializers stored as raw_data; each op lowers itself (ops/).
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import type { Graph, Value } from './ir.js';
import { opDef, type OnnxEmitter, type OnnxLowering } from './ops/index.js';

const { onnx } = onnxProto;
const OPSET = 17;

function elemType(v: Value): number {
  return v.dtype === 'int64' ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT;
}

function valueInfo(v: Value): O.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: elemType(v), shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

/**
 * Attribute names written as FLOAT even when the value is whole; every other number is an INT. The lowerings
 * use Gemm's `alpha` and InstanceNormalization's `epsilon`; none of them sets the other names today.
 */
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'epsilon', 'min', 'max', 'value']);

function attribute(name: string, value: number | number[] | string): O.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  return Number.isInteger(value) && !FLOAT_ATTRIBUTES.has(name)
    ? { name, type: T.INT, i: value }
    : { name, type: T.FLOAT, f: value };
}

function rawTensor(name: string, dims: readonly number[], bytes: Uint8Array, dataType: number): O.ITensorProto {
  return { name, dims: [...dims], dataType, rawData: bytes };
}

/** Build the ONNX model bytes for `g` (its inputs, outputs and constants as they are now) for a backend with `lowering`'s limits. */
export function toOnnx(g: Graph, graphName = 'styleloom', lowering: OnnxLowering = {}): Uint8Array {
  const nodes: O.INodeProto[] = [];
  const initializers: O.ITensorProto[] = [];
  let tmp = 0;
  const fresh = (base: string) => `${base}__${tmp++}`;
  // The constants an op's lowering asks for (shapes, axes, scalars) are deduplicated by content; the
  // graph's own constants are written once each below, under their IR names.
  const consts = new Map<string, string>();
  const constantsByName = new Map(g.constantValues.map((v) => [v.name, g.constants.get(v.id)!] as const));
  const producers = new Map(g.nodes.flatMap((n) => n.outputs.map((v) => [v.name, n] as const)));
  const emitter: OnnxEmitter = {
    lowering,
    producer: (name) => producers.get(name),
    constantData: (name) => constantsByName.get(name),
    node(opType, inputs, attrs = {}, outputs = 1) {
      const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => fresh(opType)) : outputs;
      nodes.push({
        opType,
        input: inputs,
        output: outs,
        name: fresh(`n_${opType}`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      });
      return outs;
    },
    int64(values) {
      const key = `i64:${values.join(',')}`;
      let name = consts.get(key);
      if (!name) {
        name = fresh('const_i64');
        const buf = new BigInt64Array(values.map((v) => BigInt(v)));
        initializers.push(rawTensor(name, [values.length], new Uint8Array(buf.buffer), onnx.TensorProto.DataType.INT64));
        consts.set(key, name);
      }
      return name;
    },
    floatTensor(data, dims) {
      const name = fresh('const_f32');
      initializers.push(rawTensor(name, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), onnx.TensorProto.DataType.FLOAT));
      return name;
    },
    float(values, dims) {
      const shape = dims ?? (values.length === 1 ? [] : [values.length]);
      const key = `f32:${shape.join('x')}:${values.join(',')}`;
      let name = consts.get(key);
      if (!name) {
        name = fresh('const_f32');
        const buf = Float32Array.from(values);
        initializers.push(rawTensor(name, shape, new Uint8Array(buf.buffer), onnx.TensorProto.DataType.FLOAT));
        consts.set(key, name);
      }
      return name;
    },
  };
  for (const node of g.nodes) {
    // Every IR output keeps its IR name, MaxPool2's second output (the argmax indices that MaxUnpool2
    // reads) included; the extra ONNX nodes an op lowers to get fresh names.
    opDef(node.op).onnx(emitter, node, node.inputs.map((v) => v.name), node.outputs.map((v) => v.name));
  }
  // a graph constant that a lowering replaced (a Winograd conv's weight) is not written
  const used = new Set([...nodes.flatMap((n) => n.input ?? []), ...g.outputs.map((v) => v.name)]);
  for (const v of g.constantValues) {
    if (!used.has(v.name)) continue;
    const data = g.constants.get(v.id)!;
    initializers.push(
      rawTensor(v.name, v.shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), onnx.TensorProto.DataType.FLOAT),
    );
  }
  const model: O.IModelProto = {
    irVersion: 8,
    producerName: 'styleloom',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graphName,
      node: nodes,
      initializer: initializers,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
