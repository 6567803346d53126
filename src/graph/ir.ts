// The op IR: values with static shapes, nodes in topological order, constants as initializers.
// Builder methods infer each output's shape as the node is added (see ops/ for the op rules).
import { StyleloomError } from '../errors.js';
import { OPS } from './ops/index.js';
import { numel, shapeStr, type Attrs, type DType, type GraphBuilder, type Node, type OpName, type Shape, type Value } from './types.js';

export { numel, shapeStr } from './types.js';
export type { Attrs, DType, Node, OpName, Shape, Value } from './types.js';

/** A graph under construction. Nodes are appended in topological order by construction. */
export class Graph implements GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  /** Constant tensors (ONNX initializers); never differentiated. */
  readonly constants = new Map<number, Float32Array>();
  /** The constant values, in creation order (same keys as `constants`). */
  readonly constantValues: Value[] = [];
  private nextId = 0;
  private readonly names = new Set<string>();

  private newValue(name: string, shape: Shape, dtype: DType): Value {
    let unique = name;
    for (let k = 1; this.names.has(unique); k++) unique = `${name}_${k}`;
    this.names.add(unique);
    return { id: this.nextId++, name: unique, shape: [...shape], dtype };
  }

  input(name: string, shape: Shape): Value {
    const v = this.newValue(name, shape, 'float32');
    this.inputs.push(v);
    return v;
  }

  constant(name: string, data: Float32Array, shape: Shape): Value {
    if (data.length !== numel(shape)) {
      throw new StyleloomError('E_INTERNAL', `constant ${name}: ${data.length} values for shape ${shapeStr(shape)}`);
    }
    const v = this.newValue(name, shape, 'float32');
    this.constants.set(v.id, data);
    this.constantValues.push(v);
    return v;
  }

  scalar(name: string, value: number): Value {
    return this.constant(name, Float32Array.of(value), []);
  }

  isConstant(v: Value): boolean {
    return this.constants.has(v.id);
  }

  output(v: Value): Value {
    this.outputs.push(v);
    return v;
  }

  /** Append a node; its output shapes come from the op's shape rule. */
  add(op: OpName, inputs: Value[], attrs: Attrs = {}, name: string = op.toLowerCase()): Value[] {
    const def = OPS[op];
    const outs = def.infer(inputs, attrs);
    const outputs = outs.map((o, k) => this.newValue(outs.length > 1 ? `${name}_${k}` : name, o.shape, o.dtype));
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs;
  }

  add1(op: OpName, inputs: Value[], attrs: Attrs = {}, name?: string): Value {
    return this.add(op, inputs, attrs, name)[0];
  }

  // ---- builders for the ops the losses use (thin wrappers over add) ----
  conv(x: Value, w: Value, b: Value | null, pad: number, name = 'conv'): Value {
    return this.add1('Conv', b ? [x, w, b] : [x, w], { pad }, name);
  }
  relu(x: Value, name = 'relu'): Value {
    return this.add1('Relu', [x], {}, name);
  }
  maxPool2(x: Value, name = 'maxpool'): Value {
    return this.add('MaxPool2', [x], {}, name)[0];
  }
  avgPool2(x: Value, name = 'avgpool'): Value {
    return this.add1('AvgPool2', [x], {}, name);
  }
  gram(f: Value, name = 'gram'): Value {
    return this.add1('Gram', [f], {}, name);
  }
  /** Gram of f weighted by mask m (1 x 1 x H x W), divided by n (see GuidedGram). */
  guidedGram(f: Value, m: Value, n: number, name = 'guided_gram'): Value {
    return this.add1('GuidedGram', [f, m], { n }, name);
  }
  mse(a: Value, target: Value, name = 'mse'): Value {
    return this.add1('Mse', [a, target], {}, name);
  }
  /** mean((a - b)²), a gradient to both (mse's target gets none). */
  sqDiff(a: Value, b: Value, name = 'sqdiff'): Value {
    return this.add1('SqDiff', [a, b], {}, name);
  }
  tv(x: Value, name = 'tv'): Value {
    return this.add1('Tv', [x], {}, name);
  }
  scale(x: Value, s: number, name = 'scale'): Value {
    return this.add1('Scale', [x], { s }, name);
  }
  sum(terms: Value[], name = 'sum'): Value {
    if (terms.length === 0) throw new StyleloomError('E_INTERNAL', 'sum of no terms');
    let acc = terms[0];
    for (let k = 1; k < terms.length; k++) acc = this.add1('Add', [acc, terms[k]], {}, name);
    return acc;
  }
}
