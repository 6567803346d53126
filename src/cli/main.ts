// The `styleloom` command: a thin layer over stylize() and downloadWeights(), with the flag
// vocabulary of neural-style, progress on stderr, --json results, and one-line errors.
import { Command, CommanderError, Option } from 'commander';
import path from 'node:path';
import { StyleloomError, exitCodeFor, isStyleloomError } from '../errors.js';
import { formatForPath, writeImage } from '../image/io.js';
import { downloadWeights, DEFAULT_WEIGHTS_URL } from '../model/download.js';
import { cachedWeightsPath } from '../model/weights.js';
import { defaultThreads } from '../runtime/session.js';
import { DEFAULTS } from '../transfer/options.js';
import { stylize } from '../transfer/stylize.js';
import type { StylizeOptions } from '../transfer/types.js';
import { integer, list, number, numberList } from './parse.js';
import { addFastCommand } from './fast.js';
import { addGridCommand } from './grid.js';
import { resumeFromFlags } from './resume.js';
import { statePathFor, writeStateFile } from '../transfer/state.js';
import { addServeCommand } from './serve.js';
import { byteReporter, iterationReporter } from './progress.js';
import { VERSION } from '../version.js';
import { provenanceFor } from '../transfer/provenance.js';
import { readImageMetadata } from '../image/metadata.js';
import fs from 'node:fs';

interface MainFlags {
  content: string;
  style?: string[];
  out: string;
  styleBlendWeights?: number[];
  size: number;
  iters: number;
  optimizer: 'lbfgs' | 'adam';
  lr: number;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  contentLayers?: string[];
  styleLayers?: string[];
  pool: 'max' | 'avg';
  init: string;
  seed: number;
  weights?: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  printEvery: number;
  saveEvery: number;
  json?: boolean;
  metadata: boolean;
  originalColors?: boolean;
  colorMatch?: boolean;
  scales: number;
  minSize?: number;
  scaleIters?: number[];
  styleScale: number;
  styleLayerWeights?: number[];
  noiseRatio: number;
  ema: number;
  resume?: string;
  tile?: number;
}

/** Numbered preview path: out.png -> out_0050.png */
export function snapshotPath(out: string, iter: number): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}_${String(iter).padStart(4, '0')}${ext}`;
}

function checkOutputPath(out: string): void {
  formatForPath(out);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) {
    throw new StyleloomError('E_OUTPUT', `${out} is a directory; give a file name such as ${path.join(out, 'out.png')}`);
  }
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new StyleloomError('E_OUTPUT', `${out}: directory ${path.dirname(out)} does not exist; create it first`);
  }
}

async function runStylize(f: MainFlags, signal: AbortSignal, cmd?: Command): Promise<void> {
  const resumed = f.resume && cmd ? await resumeFromFlags(f, (k) => cmd.getOptionValueSource(k) === 'cli', cmd.options.map((o) => o.attributeName())) : undefined;
  if (resumed) f.out = resumed.out;
  if (!resumed && !f.content) throw new StyleloomError('E_USAGE', 'missing --content <file>: the photo to repaint (see styleloom --help)');
  if (!resumed && !f.style?.length) throw new StyleloomError('E_USAGE', 'missing --style <file>: at least one style image (see styleloom --help)');
  checkOutputPath(f.out);
  const options: StylizeOptions = resumed?.options ?? {
    content: f.content,
    styles: f.style ?? [],
    styleBlendWeights: f.styleBlendWeights,
    size: f.size,
    iters: f.iters,
    optimizer: f.optimizer,
    lr: f.lr,
    contentWeight: f.contentWeight,
    styleWeight: f.styleWeight,
    tvWeight: f.tvWeight,
    contentLayers: f.contentLayers,
    styleLayers: f.styleLayers,
    pool: f.pool,
    init: f.init,
    seed: f.seed,
    weights: f.weights,
    threads: f.threads,
    device: f.device,
    saveEvery: f.saveEvery,
    originalColors: f.originalColors,
    scales: f.scales,
    minSize: f.minSize,
    scaleIters: f.scaleIters,
    styleScale: f.styleScale,
    styleLayerWeights: f.styleLayerWeights,
    noiseRatio: f.noiseRatio,
    ema: f.ema,
    tile: f.tile,
    colorMatch: f.colorMatch,
  };
  if (f.printEvery < 0) throw new StyleloomError('E_USAGE', `--print-every must be >= 0, got ${f.printEvery}`);
  const reporter = iterationReporter({ tty: Boolean(process.stderr.isTTY), printEvery: f.printEvery });
  let result;
  // with --save-every (or --resume), the resumable state goes next to the output: at saves, on Ctrl-C, at the end
  const statePath = (options.saveEvery ?? 0) > 0 ? statePathFor(f.out) : undefined;
  let saved: { reason: string; iter: number } | undefined;
  try {
    result = await stylize(options, {
      signal,
      onProgress: (e) => reporter.update(e),
      onSnapshot: (img, iter) => writeImage(snapshotPath(f.out, iter), img),
      onState: statePath
        ? async (s) => {
            await writeStateFile(statePath, s);
            saved = { reason: s.reason, iter: s.iter };
          }
        : undefined,
    });
  } catch (e) {
    if (statePath && saved?.reason === 'abort' && isStyleloomError(e) && e.code === 'E_ABORTED') {
      throw new StyleloomError('E_ABORTED', `cancelled after iteration ${saved.iter}; state saved to ${statePath}: continue with styleloom --resume ${statePath}`);
    }
    throw e;
  } finally {
    reporter.stop();
  }
  await writeImage(f.out, result.image, f.metadata ? { metadata: await provenanceFor(options, result) } : {});
  const summary = {
    iters: result.iters,
    ms_per_iter: Number(result.msPerIter.toFixed(3)),
    loss: result.loss,
    width: result.image.width,
    height: result.image.height,
    out: f.out,
  };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stderr.write(
      `wrote ${f.out} (${summary.width}x${summary.height}) after ${summary.iters} iterations, ${summary.ms_per_iter.toFixed(1)} ms/iter; final loss ${result.loss.total.toExponential(4)}${statePath ? `; state ${statePath}` : ''}\n`,
    );
  }
}

export function buildProgram(signal: AbortSignal): Command {
  const program = new Command('styleloom');
  program
    .enablePositionalOptions()
    .description('Neural style transfer: repaint --content in the style of one or more --style images (Gatys et al., VGG-19 on onnxruntime).')
    .version(VERSION, '-V, --version')
    .option('--content <file>', 'content image (the photo to repaint); required')
    .option('--style <file...>', 'style image(s); repeat the flag or list several; required')
    .option('--out <file>', 'output image (.png, .jpg or .webp)', 'out.png')
    .option('--style-blend-weights <list>', 'comma-separated weight per style, normalised to sum 1 (default: equal)', numberList)
    .option('--size <px>', 'long side of the output and of each style image, px', integer, DEFAULTS.size)
    .option('--iters <n>', 'iterations (one loss+gradient evaluation each), per scale', integer, DEFAULTS.iters)
    .option('--scales <n>', 'coarse-to-fine: optimise at n sizes growing by about √2 up to --size', integer, 1)
    .option('--min-size <px>', 'long side of the first scale (default: --size / √2^(scales-1))', integer)
    .option('--scale-iters <list>', 'iterations at each scale, e.g. 300,200,100 (overrides --iters)', (v: string) => numberList(v))
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['lbfgs', 'adam']).default(DEFAULTS.optimizer))
    .option('--lr <x>', 'Adam learning rate, in 0..255 grey levels', number, DEFAULTS.lr)
    .option('--content-weight <x>', 'weight of the content loss', number, DEFAULTS.contentWeight)
    .option('--style-weight <x>', 'weight of the style loss', number, DEFAULTS.styleWeight)
    .option('--tv-weight <x>', 'weight of the total-variation loss', number, DEFAULTS.tvWeight)
    .option('--content-layers <list>', 'content layers, e.g. conv4_2 (default: conv4_2, or conv3_2 if the weights stop before)', list)
    .option('--style-layers <list>', 'style layers (default: those of conv1_1,conv2_1,conv3_1,conv4_1,conv5_1 the weights have)', list)
    .option('--style-scale <x>', 'style image size relative to the output', number, DEFAULTS.styleScale)
    .option('--style-layer-weights <list>', 'relative weight per style layer, e.g. 1,1,2 (default: equal)', numberList)
    .addOption(new Option('--pool <kind>', 'pooling in VGG').choices(['max', 'avg']).default(DEFAULTS.pool))
    .option('--init <how>', 'start from: content, noise, or an image file', DEFAULTS.init)
    .option('--noise-ratio <r>', 'with --init noise: r·noise + (1−r)·content', number, DEFAULTS.noiseRatio)
    .option('--ema <decay>', 'average the iterate (exponential moving average, e.g. 0.99; 0 = off) to remove high-frequency noise', number, DEFAULTS.ema)
    .option('--seed <n>', 'seed of the noise init (same seed + threads = same bits)', integer, DEFAULTS.seed)
    .option('--weights <file>', 'VGG-19 safetensors (default: $STYLELOOM_WEIGHTS, then the cache)')
    .option('--tile <px>', 'evaluate in tiles of this size to fit large images in memory (same result); 0 = never (default: 768 above 1.5 megapixels)', integer)
    .option('--threads <n>', `CPU threads (default: number of cores, here ${defaultThreads()})`, integer)
    .addOption(new Option('--device <name>', 'execution provider').choices(['cpu', 'cuda']).default(DEFAULTS.device))
    .option('--print-every <n>', 'without a terminal: print a progress line every n iterations (0 = never)', integer, 50)
    .option('--save-every <n>', 'write a numbered preview (out_0050.png, ...) every n iterations (0 = never)', integer, DEFAULTS.saveEvery)
    .option('--original-colors', "keep the content's colours (stylised luminance, content chroma)")
    .option('--color-match', "match each style image's colour mean/covariance to the content before transfer")
    .option('--json', 'print one JSON line of results on stdout')
    .option('--no-metadata', 'do not embed provenance (software, parameters, input SHA-256, attribution) in the output')
    .option('--resume <state>', 'continue a run from its state file (<out>.state, written with --save-every); --iters sets the new total')
    .action(async (flags: MainFlags, cmd: Command) => runStylize(flags, signal, cmd));

  program
    .command('info <image>')
    .description('print the provenance metadata styleloom embedded in an image')
    .option('--json', 'print it as one JSON object')
    .action(async (file: string, f: { json?: boolean }) => {
      const meta = await readImageMetadata(file);
      if (f.json) process.stdout.write(`${JSON.stringify(meta)}\n`);
      else if (Object.keys(meta).length === 0) process.stdout.write(`${file}: no styleloom metadata\n`);
      else for (const [k, v] of Object.entries(meta)) process.stdout.write(`${k}: ${v}\n`);
    });

  const weights = program.command('weights').description('manage the VGG-19 weights');
  weights
    .command('download')
    .description('download full VGG-19 (safetensors) into the cache, verified by SHA-256; resumable')
    .option('--url <url>', 'where to download from', DEFAULT_WEIGHTS_URL)
    .option('--sha256 <hex>', 'expected SHA-256 (default: what the server announces)')
    .option('--out <file>', 'destination', cachedWeightsPath())
    .action(async (f: { url: string; sha256?: string; out: string }) => {
      const bar = byteReporter(Boolean(process.stderr.isTTY));
      try {
        const r = await downloadWeights({ url: f.url, sha256: f.sha256, dest: f.out, signal, onProgress: (got, total) => bar.update(got, total) });
        bar.stop();
        process.stderr.write(`saved ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 ${r.sha256})\n`);
      } finally {
        bar.stop();
      }
    });
  weights
    .command('path')
    .description('print where styleloom looks for cached weights')
    .action(() => {
      process.stdout.write(`${cachedWeightsPath()}\n`);
    });

  for (const cmd of [program, ...program.commands, ...weights.commands]) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (str, write) => write(`styleloom: ${str.replace(/^error: /, '').trimEnd()} (see styleloom --help)\n`) });
  }
  addFastCommand(program, signal);
  addGridCommand(program, signal);
  addServeCommand(program, signal);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nstyleloom: stopping after this iteration (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await buildProgram(controller.signal).parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    if (isStyleloomError(e)) {
      process.stderr.write(`styleloom: ${e.message}\n`);
      return exitCodeFor(e.code);
    }
    process.stderr.write(`styleloom: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
