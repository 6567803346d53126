// The machine's practical fp32 peak as onnxruntime sees it: one large MatMul (n x n @ n x n) in an
// ONNX model built with onnx-proto, run with onnxruntime-node on `threads` intra-op threads; the
// best of several runs gives GFLOP/s = 2 n^3 / t.
//
// Usage as a script: node bench/peak.mjs [--n 2048] [--threads 2] [--runs 7]
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/** ModelProto bytes of Y = A @ B with A an input [n, n] and B an initializer [n, n] (float32). */
export function matmulModel(n) {
  const b = new Float32Array(n * n);
  for (let k = 0; k < b.length; k++) b[k] = ((k * 2654435761) % 1000) / 1000 - 0.5;
  const F = onnx.TensorProto.DataType.FLOAT;
  const info = (name) => ({ name, type: { tensorType: { elemType: F, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } } });
  const model = {
    irVersion: 8,
    producerName: 'styleloom-bench',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'peak_matmul',
      node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['Y'], name: 'matmul' }],
      initializer: [{ name: 'B', dims: [n, n], dataType: F, rawData: new Uint8Array(b.buffer) }],
      input: [info('A')],
      output: [info('Y')],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Best-of-`runs` GFLOP/s of an n x n x n float32 MatMul on onnxruntime (CPU, `threads` threads). */
export async function measurePeak({ n = 2048, threads = 2, runs = 7 } = {}) {
  const session = await ort.InferenceSession.create(matmulModel(n), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  try {
    const a = new Float32Array(n * n);
    for (let k = 0; k < a.length; k++) a[k] = ((k * 40503) % 1000) / 1000 - 0.5;
    const feeds = { A: new ort.Tensor('float32', a, [n, n]) };
    await session.run(feeds); // warm-up (thread pool, packing buffers)
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t);
    }
    const best = Math.min(...times);
    const flops = 2 * n ** 3;
    return { n, threads, runs, best_ms: best, times_ms: times, gflops: flops / (best * 1e6) };
  } finally {
    await session.release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (k, d) => {
    const i = process.argv.indexOf(k);
    return Number(i > 0 ? process.argv[i + 1] : d);
  };
  const r = await measurePeak({ n: arg('--n', 2048), threads: arg('--threads', 2), runs: arg('--runs', 7) });
  console.log(`MatMul ${r.n}^3, ${r.threads} threads: best ${r.best_ms.toFixed(1)} ms = ${r.gflops.toFixed(1)} GFLOP/s (runs ${r.times_ms.map((t) => t.toFixed(0)).join(', ')} ms)`);
}
