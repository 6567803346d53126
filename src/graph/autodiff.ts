// Reverse-mode differentiation of an IR graph into the same graph: walks the nodes backwards and asks
// each op for its local backward rule (ops/), summing gradients of values used more than once.
import { StyleloomError } from '../errors.js';
import type { Graph, Node, Value } from './ir.js';
import { opDef } from './ops/index.js';

/**
 * Appends the nodes computing d(loss)/d(wrt) and returns the gradient value for each `wrt`.
 * `loss` must be a scalar. Any non-constant value may be a target: the image, or a network's weights fed
 * as graph inputs (training). Only values that depend on a target are differentiated (a branch that
 * computes fixed targets, or a layer's input that is data, gets no backward nodes). Constants get no
 * gradient; a `wrt` the loss does not depend on is an error.
 */
export function gradients(g: Graph, loss: Value, wrt: Value[]): Value[] {
  if (loss.shape.length !== 0) throw new StyleloomError('E_INTERNAL', `gradient of non-scalar ${loss.name}`);
  // Only nodes on a path to the loss matter; snapshot the forward part before appending backward nodes.
  const forward = g.nodes.slice();
  const live = dependents(forward, wrt);
  const grads = new Map<number, Value>();
  const accumulate = (v: Value, gv: Value) => {
    const prev = grads.get(v.id);
    grads.set(v.id, prev ? g.add1('Add', [prev, gv], {}, `${v.name}_dacc`) : gv);
  };
  grads.set(loss.id, g.scalar('d_loss_seed', 1));
  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    const gys = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (gys.every((x) => x === null)) continue;
    const needs = node.inputs.map((v) => live.has(v.id) && !g.isConstant(v));
    if (!needs.some(Boolean)) continue;
    const def = opDef(node.op);
    if (!def.backward) throw new StyleloomError('E_INTERNAL', `op ${node.op} has no backward rule`);
    const gxs = def.backward(g, node, gys, needs);
    node.inputs.forEach((inp, i) => {
      const gx = gxs[i];
      if (gx && needs[i]) accumulate(inp, gx);
    });
  }
  return wrt.map((v) => {
    const gv = grads.get(v.id);
    if (!gv) throw new StyleloomError('E_INTERNAL', `${loss.name} does not depend on ${v.name}`);
    return gv;
  });
}

/** The ids of the `wrt` values and of every value computed from one of them (nodes in topological order). */
function dependents(nodes: readonly Node[], wrt: readonly Value[]): Set<number> {
  const live = new Set(wrt.map((v) => v.id));
  for (const n of nodes) if (n.inputs.some((v) => live.has(v.id))) for (const o of n.outputs) live.add(o.id);
  return live;
}

/**
 * The end of every loss graph: outputs `loss_total` (the sum of the loss `terms`, each already an
 * output) and its gradient with respect to `x`, and returns both.
 */
export function outputTotalAndGradient(g: Graph, terms: Value[], x: Value): { total: Value; grad: Value } {
  const total = g.output(terms.length > 1 ? g.sum(terms, 'loss_total') : g.scale(terms[0], 1, 'loss_total'));
  const [grad] = gradients(g, total, [x]);
  g.output(grad);
  return { total, grad };
}
