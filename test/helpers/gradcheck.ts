// Gradient checking for IR graphs: central finite differences of a scalar through the float64 reference
// evaluator, and one run of a graph on onnxruntime-node (1 thread) compared with that reference.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/graph/reference.js';
import { toOnnx } from '../../src/graph/onnx-export.js';
import type { Graph, Value } from '../../src/graph/ir.js';
import { createRunner } from '../../src/runtime/session.js';
import { maxRelErr } from './fixtures.js';

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

/**
 * Each analytic gradient (grads[k] of wrt[k]) within `tol` (max error / max |fd|) of finite differences of step
 * `eps`, and not all zero.
 */
export function assertGradientsMatchFd(g: Graph, loss: Value, wrt: readonly Value[], grads: readonly Value[], feeds: Record<string, Float32Array>, label: string, tol = 1e-6, eps = 1e-4): void {
  const analytic = evaluate(g, feeds, [...grads]);
  wrt.forEach((v, k) => {
    const fd = finiteDifference(g, loss, feeds, v.name, eps);
    const err = maxRelErr(analytic[k], fd);
    assert.ok(err < tol, `${label}, d/d${v.name}: max |analytic - fd| / max |fd| = ${err}`);
    assert.ok(Math.max(...fd.map(Math.abs)) > 0, `${label}: d/d${v.name} is not trivially zero`);
  });
}

/** onnxruntime's loss within 1e-5 and its gradients within `gradTol` (max error / max |ref|) of the float64 reference. */
export async function assertOrtMatchesReference(g: Graph, loss: Value, grads: readonly Value[], feeds: Record<string, Float32Array>, gradTol = 1e-5): Promise<void> {
  const ref = evaluate(g, feeds, [loss, ...grads]);
  const out = await runOnOrt(g, feeds);
  assert.ok(Math.abs(out[loss.name][0] - ref[0][0]) <= 1e-5 * Math.abs(ref[0][0]), `loss ${out[loss.name][0]} vs ${ref[0][0]}`);
  grads.forEach((gv, k) => {
    const err = maxRelErr(out[gv.name], ref[k + 1]);
    assert.ok(err < gradTol, `${gv.name}: err ${err}`);
  });
}
