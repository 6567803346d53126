// Float64 reference evaluator of the IR: slow, exact-ish, and the executable documentation of each op.
// Used by the tests for finite differences and to check the ONNX lowering.
import { StyleloomError } from '../errors.js';
import type { Graph, Value } from './ir.js';
import { opDef, type Arr } from './ops/index.js';

/** Evaluate `wanted` values given data for the graph's inputs (by input name). */
export function evaluate(g: Graph, feeds: Record<string, ArrayLike<number>>, wanted: Value[]): Float64Array[] {
  const env = new Map<number, Arr>();
  for (const v of g.constantValues) env.set(v.id, { data: Float64Array.from(g.constants.get(v.id)!), shape: v.shape });
  for (const v of g.inputs) {
    const d = feeds[v.name];
    if (!d) throw new StyleloomError('E_INTERNAL', `no data for input ${v.name}`);
    env.set(v.id, { data: Float64Array.from(d), shape: v.shape });
  }
  const need = new Set(wanted.map((v) => v.id));
  const last = Math.max(-1, ...g.nodes.map((n, k) => (n.outputs.some((o) => need.has(o.id)) ? k : -1)));
  for (let k = 0; k <= last; k++) {
    const node = g.nodes[k];
    const ins = node.inputs.map((v) => {
      const a = env.get(v.id);
      if (!a) throw new StyleloomError('E_INTERNAL', `value ${v.name} used before it is computed`);
      return a;
    });
    const outs = opDef(node.op).evaluate(ins, node.attrs);
    node.outputs.forEach((o, i) => env.set(o.id, outs[i]));
  }
  return wanted.map((v) => {
    const a = env.get(v.id);
    if (!a) throw new StyleloomError('E_INTERNAL', `value ${v.name} was not computed`);
    return a.data;
  });
}
