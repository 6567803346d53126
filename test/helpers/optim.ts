// Test helper for the optimisers: a problem is f(x) writing its gradient, and run() steps an optimiser
// through it (awaiting, so that the synchronous and the onnxruntime-backed optimisers run alike).
import type { Optimizer } from '../../src/optim/index.js';

/** f(x), writing the gradient into grad. */
export type Problem = (x: Float32Array, grad: Float32Array) => number;

/** Runs `steps` evaluate+step rounds from x0; returns x after every step and the losses fed in. */
export async function run(opt: Optimizer, f: Problem, x0: ArrayLike<number>, steps: number): Promise<{ x: Float32Array; xs: Float32Array[]; losses: number[] }> {
  const x = Float32Array.from(x0);
  const g = new Float32Array(x.length);
  const xs: Float32Array[] = [];
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    const loss = f(x, g);
    losses.push(loss);
    await opt.step(x, loss, g);
    xs.push(x.slice());
  }
  return { x, xs, losses };
}
