// Child process of the time-to-quality measurement: runs stylize() (L-BFGS) in-process and prints one
// JSON line per iteration on stdout; stops as soon as the loss reaches `target` (or after `iters`).
// Usage: node bench/ttq-child.mjs '<json options>'   (options: stylize() options plus `target`)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { stylize } = await import(pathToFileURL(path.join(repo, 'dist', 'src', 'index.js')).href);

const { target, ...options } = JSON.parse(process.argv[2]);
const controller = new AbortController();
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
let reached = null;
let best = Infinity;
try {
  const res = await stylize(options, {
    signal: controller.signal,
    onProgress(e) {
      best = Math.min(best, e.loss.total);
      // performance.now() counts from this process's start: wall time including set-up
      emit({ type: 'iter', iter: e.iter, loss: e.loss.total, ms: e.ms, elapsedMs: e.elapsedMs, processMs: performance.now() });
      if (reached === null && e.loss.total <= target) {
        reached = { type: 'reached', iter: e.iter, loss: e.loss.total, elapsedMs: e.elapsedMs, processMs: performance.now() };
        emit(reached);
        controller.abort();
      }
    },
  });
  emit({ type: 'done', iters: res.iters, final: res.loss.total, best: Math.min(best, res.loss.total), msPerIter: res.msPerIter });
} catch (e) {
  if (e?.code !== 'E_ABORTED' || reached === null) {
    process.stderr.write(`ttq-child: ${e?.stack ?? e}\n`);
    process.exit(1);
  }
  emit({ type: 'done', stopped: true, best });
}
