// `styleloom train`: trains a feed-forward style network on a folder of photos (trainNetwork), with a progress
// bar (or periodic lines), checkpoints, --resume, and the network file or one --json line at the end.
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { trainNetwork, type TrainOptions } from '../train/train.js';
import { addJobCommand, attributeOf, jobValues } from './flags.js';
import { checkInputFiles } from './output.js';
import { trainReporter } from './progress.js';

type TrainValues = Omit<JobValues<OptionRows, 'train'>, 'styles'> & { styles?: string; out?: string; resume?: string; json?: boolean; printEvery?: number };

async function runTrain(flags: Record<string, unknown>, signal: AbortSignal, cmd: Command): Promise<void> {
  const f = jobValues(flags, 'train') as TrainValues;
  const given = (k: string) => cmd.getOptionValueSource(attributeOf(k, 'train')!) === 'cli';
  const { json, printEvery, styles, ...rest } = f;
  let library: TrainOptions;
  if (f.resume) {
    // with --resume only what was typed counts: the checkpoint holds the run's options, not the flags' defaults
    library = Object.fromEntries(Object.entries({ ...rest, style: styles }).filter(([k, v]) => v !== undefined && (k === 'resume' || given(k === 'style' ? 'styles' : k)))) as TrainOptions;
  } else {
    if (!styles) throw new StyleloomError('E_USAGE', 'missing --style <file>: the style image to learn (see styleloom train --help)');
    if (!f.images) throw new StyleloomError('E_USAGE', 'missing --images <dir>: a folder of training photos (see styleloom train --help)');
    if (!f.out) throw new StyleloomError('E_USAGE', 'missing --out <file>: the network file to write, e.g. my-style.safetensors (see styleloom train --help)');
    checkInputFiles([styles]);
    library = { ...rest, style: styles } as TrainOptions;
  }
  const reporter = trainReporter({ tty: Boolean(process.stderr.isTTY), printEvery: printEvery ?? 10 });
  let r;
  try {
    r = await trainNetwork(library, { signal, onProgress: (e) => reporter.update(e) });
  } finally {
    reporter.stop();
  }
  const imagesPerS = Number(r.imagesPerS.toFixed(3));
  if (json) process.stdout.write(`${JSON.stringify({ out: r.out, iters: r.iters, loss_history: r.lossHistory, images_per_s: imagesPerS, photos: r.photos, skipped: r.skipped, checkpoint: r.checkpoint ?? null })}\n`);
  else {
    const last = r.lossHistory[r.lossHistory.length - 1];
    process.stderr.write(`wrote ${r.out} after ${r.iters} iterations on ${r.photos} photos (${imagesPerS} images/s); last loss ${last?.toExponential(4)}${r.checkpoint ? `; checkpoint ${r.checkpoint}` : ''}\n`);
  }
}

/** Registers `styleloom train` on the program. */
export function addTrainCommand(program: Command, signal: AbortSignal): Command {
  return addJobCommand(program, 'train', 'Train a feed-forward style network (Johnson et al. 2016) for --style on the photos in --images: random crops, VGG content + Gram style + TV loss, Adam; writes a .safetensors network for styleloom fast --model.', async (flags, c) => runTrain(flags, signal, c));
}
