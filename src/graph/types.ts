// The IR's value types (values, nodes, attributes, the op names) with no dependencies, so that both the
// graph builder (ir.ts) and the op table (ops/) can import them without importing each other.

export type DType = 'float32' | 'int64';
export type Shape = readonly number[];

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

export type Attrs = Record<string, number | number[] | string | undefined>;

// The op names by family; each family's entries live in ops/<family>.ts, which must define exactly these.
// Gradient-only ops (no backward rule of their own) are listed next to the op whose gradient they compute.
export type ConvOpName = 'Conv' | 'ConvTranspose' | 'ConvWeightGrad' | 'ConvBiasGrad';
export type PoolOpName = 'MaxPool2' | 'MaxUnpool2' | 'AvgPool2' | 'AvgPool2Grad';
export type ElementwiseOpName = 'Relu' | 'ReluGrad' | 'Tanh' | 'TanhGrad' | 'Clip' | 'ClipGrad' | 'Scale' | 'Affine' | 'Add';
export type NormOpName = 'InstanceNorm' | 'InstanceNormGrad';
export type LayoutOpName = 'ReflectPad' | 'ReflectPadGrad' | 'ZeroPad' | 'Crop' | 'DepthToSpace' | 'SpaceToDepth' | 'Upsample2';
export type LossOpName = 'Gram' | 'GramGrad' | 'GuidedGram' | 'GuidedGramGrad' | 'Mse' | 'MseGrad' | 'SqDiff' | 'WeightedMse' | 'WeightedMseGrad' | 'Tv' | 'TvGrad' | 'Dot' | 'ScaleBy';
export type OpName = ConvOpName | PoolOpName | ElementwiseOpName | NormOpName | LayoutOpName | LossOpName;

export interface Node {
  readonly op: OpName;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
}

/** What an op's backward rule may do with the graph it differentiates (implemented by ir.ts's Graph). */
export interface GraphBuilder {
  readonly constants: ReadonlyMap<number, Float32Array>;
  constant(name: string, data: Float32Array, shape: Shape): Value;
  add(op: OpName, inputs: Value[], attrs?: Attrs, name?: string): Value[];
  add1(op: OpName, inputs: Value[], attrs?: Attrs, name?: string): Value;
  conv(x: Value, w: Value, b: Value | null, pad: number, name?: string): Value;
  scale(x: Value, s: number, name?: string): Value;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}
