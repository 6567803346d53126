// The instability of a network that the stability term trains down: mean((f(x + noise) − f(x))²) over the output
// values (RGB 0..255) of crops x with seeded Gaussian noise, on onnxruntime with the network's weights as constants.
import type { FastCheckpoint } from '../fast/checkpoint-format.js';
import { buildFastGraph } from '../fast/network.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { DeviceKind } from '../runtime/device.js';
import { createRunner } from '../runtime/session.js';
import { withNoise } from './dataset.js';

/**
 * Mean squared difference between the network's output for `crops` ([n, 3, size, size] RGB 0..255) and for the same
 * crops plus N(0, std²) noise from `seed` (clipped to 0..255), over every output value.
 */
export async function measureInstability(
  net: FastCheckpoint,
  crops: Float32Array,
  size: number,
  std: number,
  seed: number,
  opts: { threads?: number; device?: DeviceKind } = {},
): Promise<number> {
  const n = crops.length / (3 * size * size);
  const fg = buildFastGraph(net, { batch: n, height: size, width: size });
  const runner = await createRunner(toOnnx(fg.graph, 'instability'), { threads: opts.threads, device: opts.device });
  try {
    const run = async (x: Float32Array) => (await runner.run({ [fg.input.name]: { data: x, dims: fg.input.shape } }, [fg.output.name]))[fg.output.name];
    const clean = await run(crops);
    const noisy = await run(withNoise(crops, std, seed));
    let s = 0;
    for (let i = 0; i < clean.length; i++) s += (noisy[i] - clean[i]) ** 2;
    return s / clean.length;
  } finally {
    await runner.release();
  }
}
