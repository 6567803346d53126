// Progress on stderr: a live bar (iteration, losses, rate, ETA) on a terminal, plain periodic lines
// otherwise (logs, CI), so long runs always show where they are.
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../transfer/types.js';
import type { TrainProgress } from '../train/train.js';

export interface Reporter<E = ProgressEvent> {
  update(e: E): void;
  stop(): void;
}

const fmt = (v: number) => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toFixed(1));

export function iterationReporter(opts: { tty: boolean; printEvery: number; stream?: NodeJS.WriteStream }): Reporter {
  const stream = opts.stream ?? process.stderr;
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'styleloom {bar} {value}/{total} | loss {loss} (content {content}, style {style}, tv {tv}) | {rate} it/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(e) {
        const payload = { loss: fmt(e.loss.total), content: fmt(e.loss.content), style: fmt(e.loss.style), tv: fmt(e.loss.tv), rate: (1000 / e.ms).toFixed(2) };
        if (!started) {
          bar.start(e.iters, 0, payload);
          started = true;
        }
        bar.update(e.iter, payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(e) {
      if (opts.printEvery <= 0 || (e.iter % opts.printEvery !== 0 && e.iter !== e.iters)) return;
      const eta = ((e.iters - e.iter) * e.elapsedMs) / e.iter / 1000;
      stream.write(
        `iter ${e.iter}/${e.iters}  loss ${fmt(e.loss.total)} (content ${fmt(e.loss.content)}, style ${fmt(e.loss.style)}, tv ${fmt(e.loss.tv)})  ${e.ms.toFixed(0)} ms/iter  ETA ${eta.toFixed(0)} s\n`,
      );
    },
    stop() {},
  };
}

/** Training progress: the same bar or lines, with images/s (crops through the step per second). */
export function trainReporter(opts: { tty: boolean; printEvery: number; stream?: NodeJS.WriteStream }): Reporter<TrainProgress> {
  const stream = opts.stream ?? process.stderr;
  const terms = (e: TrainProgress) => ({ loss: fmt(e.loss.total), content: fmt(e.loss.content), style: fmt(e.loss.style), tv: fmt(e.loss.tv), stab: e.loss.stability === undefined ? '' : `, stability ${fmt(e.loss.stability)}`, rate: e.imagesPerS.toFixed(2), lr: e.lr.toExponential(2) });
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'train {bar} {value}/{total} | loss {loss} (content {content}, style {style}, tv {tv}{stab}) | lr {lr} | {rate} images/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(e) {
        if (!started) bar.start(e.iters, e.iter - 1, terms(e));
        started = true;
        bar.update(e.iter, terms(e));
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let first: number | undefined;
  return {
    update(e) {
      first ??= e.iter - 1;
      if (opts.printEvery <= 0 || (e.iter % opts.printEvery !== 0 && e.iter !== e.iters)) return;
      const t = terms(e);
      const eta = ((e.iters - e.iter) * e.elapsedMs) / (e.iter - first) / 1000;
      stream.write(`iter ${e.iter}/${e.iters}  loss ${t.loss} (content ${t.content}, style ${t.style}, tv ${t.tv}${t.stab})  lr ${t.lr}  ${t.rate} images/s  ETA ${eta.toFixed(0)} s\n`);
    },
    stop() {},
  };
}

/** Byte progress for downloads. */
export function byteReporter(tty: boolean, stream: NodeJS.WriteStream = process.stderr): { update(received: number, total?: number): void; stop(): void } {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  if (tty) {
    const bar = new cliProgress.SingleBar({ stream, format: 'download {bar} {percentage}% | {got}/{all} MB | ETA {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(received, total) {
        if (!started) bar.start(total ?? 0, 0, { got: '0', all: total ? mb(total) : '?' });
        started = true;
        bar.update(received, { got: mb(received), all: total ? mb(total) : '?' });
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let lastMb = -100;
  return {
    update(received, total) {
      if (received / 1e6 - lastMb < 50 && received !== total) return;
      lastMb = received / 1e6;
      stream.write(`downloaded ${mb(received)}${total ? ` of ${mb(total)}` : ''} MB\n`);
    },
    stop() {},
  };
}
