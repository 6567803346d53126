// The machine's practical fp32 peak as onnxruntime sees it: one large MatMul (n x n @ n x n) in an
// ONNX model built with onnx-proto, run with onnxruntime-node on `threads` intra-op threads; the
// best of several runs gives GFLOP/s = 2 n^3 / t.
//
// measureHonestPeak adds onnxruntime's 4096³ MatMul and the peer stack's kernels (peak_kernels.py) and takes the best.
//
// Usage as a script: node bench/peak.mjs [--threads 2] [--runs 5]   (every kernel, and the best)
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
  const h = await measureHonestPeak({ threads: arg('--threads', 2), runs: arg('--runs', 5) });
  for (const k of h.kernels) console.log(`${k.what}, ${h.threads} threads: ${k.gflops.toFixed(1)} GFLOP/s (best ${k.best_ms.toFixed(1)} ms)`);
  if (h.pyError) console.log(`(the peer's kernels were not measured: ${h.pyError})`);
  console.log(`peak: ${h.best.what}, ${h.gflops.toFixed(1)} GFLOP/s`);
}

/**
 * The honest peak: the best of onnxruntime's MatMul (2048³ and 4096³) and the peer stack's kernels
 * (bench/peak_kernels.py under /usr/bin/python3: OpenBLAS sgemm, torch.mm, torch's oneDNN 3x3 conv), all
 * measured now. Returns every kernel's figure and the best; the Python ones are left out (with `pyError`)
 * when the peer's packages are missing.
 */
export async function measureHonestPeak({ threads = 2, runs = 5, python = '/usr/bin/python3', quick = false } = {}) {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const kernels = [];
  // quick: onnxruntime's 2048³ MatMul only (bench --quick is a 20-second smoke check)
  for (const n of quick ? [2048] : [2048, 4096]) {
    const r = await measurePeak({ n, threads, runs: n >= 4096 ? Math.min(runs, 3) : runs });
    kernels.push({ what: `onnxruntime MatMul ${n}x${n} @ ${n}x${n}`, gflops: r.gflops, best_ms: r.best_ms });
  }
  let pyError = quick ? 'left out by --quick' : undefined;
  if (!quick) try {
    const script = fileURLToPath(new URL('./peak_kernels.py', import.meta.url));
    const out = execFileSync(python, [script, '--threads', String(threads), '--runs', String(runs)], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    kernels.push(...JSON.parse(out.trim().split('\n').at(-1)).kernels);
  } catch (e) {
    pyError = String(e.message ?? e).split('\n')[0];
  }
  const best = kernels.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { threads, kernels, best, gflops: best.gflops, pyError };
}
