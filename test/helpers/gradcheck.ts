// Gradient checking for IR graphs: central finite differences of a scalar through the float64 reference
// evaluator, and one run of a graph on onnxruntime-node (1 thread) to compare with that reference.
import { evaluate } from '../../src/graph/reference.js';
import { toOnnx } from '../../src/graph/onnx-export.js';
import type { Graph, Value } from '../../src/graph/ir.js';
import { createRunner } from '../../src/runtime/session.js';

/** Central differences of `loss` with respect to the input `name`, all other feeds fixed. */
export function finiteDifference(g: Graph, loss: Value, feeds: Record<string, Float32Array>, name: string, eps = 1e-4): Float64Array {
  const all: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(feeds)) all[k] = Float64Array.from(v);
  const xp = all[name];
  const out = new Float64Array(xp.length);
  for (let k = 0; k < xp.length; k++) {
    const v = xp[k];
    xp[k] = v + eps;
    const [fp] = evaluate(g, all, [loss]);
    xp[k] = v - eps;
    const [fm] = evaluate(g, all, [loss]);
    xp[k] = v;
    out[k] = (fp[0] - fm[0]) / (2 * eps);
  }
  return out;
}

/** The graph's outputs by name, computed by onnxruntime-node from its ONNX export. */
export async function runOnOrt(g: Graph, feeds: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const runner = await createRunner(toOnnx(g), { threads: 1 });
  try {
    return await runner.run(Object.fromEntries(g.inputs.map((v) => [v.name, { data: feeds[v.name], dims: v.shape }])));
  } finally {
    await runner.release();
  }
}
