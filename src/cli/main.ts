// The `styleloom` command: a thin layer over stylize() and downloadWeights(), with the flag
// vocabulary of neural-style, progress on stderr, --json results, and one-line errors.
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import { StyleloomError, exitCodeFor, isStyleloomError } from '../errors.js';
import { writeImage } from '../image/io.js';
import { downloadWeights, DEFAULT_WEIGHTS_URL } from '../model/download.js';
import { cachedWeightsPath } from '../model/weights.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { stylize } from '../transfer/stylize.js';
import type { StylizeOptions } from '../transfer/types.js';
import { addJobOptions, attributeOf, cliMessage, jobValues, oneLineErrors } from './flags.js';
import { checkOutputPath } from './output.js';
import { addFastCommand } from './fast.js';
import { addGridCommand } from './grid.js';
import { addAudioCommand } from './audio.js';
import { addVideoCommand } from './video.js';
import { addScoreCommand } from './score.js';
import { addTrainCommand } from './train.js';
import { addModelsCommand } from './models.js';
import { resumeFromFlags } from './resume.js';
import { statePathFor } from '../transfer/resume.js';
import { writeStateFile } from '../transfer/state-file.js';
import { addServeCommand } from './serve.js';
import { addWorkerCommand } from './worker.js';
import { byteReporter, iterationReporter } from './progress.js';
import { VERSION } from '../version.js';
import { provenanceFor } from '../transfer/provenance.js';
import { readImageMetadata } from '../image/metadata.js';
import { isSoundPath, readSoundMetadata } from '../audio/sound-io.js';
import { isVideoPath, readVideoMetadata } from '../video/provenance.js';

/** What the flags of `styleloom` parse to, by option key. */
type MainValues = JobValues<OptionRows, 'image'> & { out: string; printEvery: number; metadata: boolean };

/** The CLI-only rows of the image job: they steer the command, stylize() never sees them. */
const CLI_ONLY = ['out', 'json', 'metadata', 'printEvery', 'resume'] as const;

/** Numbered preview path: out.png -> out_0050.png */
export function snapshotPath(out: string, iter: number): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}_${String(iter).padStart(4, '0')}${ext}`;
}

async function runStylize(flags: Record<string, unknown>, signal: AbortSignal, cmd: Command): Promise<void> {
  const f = jobValues(flags, 'image') as MainValues;
  const resumed = f.resume ? await resumeFromFlags(f, (k) => cmd.getOptionValueSource(attributeOf(k, 'image')!) === 'cli') : undefined;
  if (resumed) f.out = resumed.out;
  if (!resumed && !f.content) throw new StyleloomError('E_USAGE', 'missing --content <file>: the photo to repaint (see styleloom --help)');
  if (!resumed && !f.styles?.length) throw new StyleloomError('E_USAGE', 'missing --style <file>: at least one style image (see styleloom --help)');
  const library = Object.fromEntries(Object.entries(f).filter(([k]) => !(CLI_ONLY as readonly string[]).includes(k)));
  const options: StylizeOptions = resumed?.options ?? (library as unknown as StylizeOptions);
  const init = options.init === 'content' || options.init === 'noise' ? undefined : options.init;
  const masks = [options.mask, ...(options.styleMasks ?? []), ...(options.styleRegions ?? [])];
  const inputs = [options.content, ...options.styles, init, ...masks].filter((x): x is string => typeof x === 'string');
  checkOutputPath(f.out, inputs);
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
    .version(VERSION, '-V, --version');
  addJobOptions(program, 'image').action(async (flags: Record<string, unknown>, cmd: Command) => runStylize(flags, signal, cmd));

  program
    .command('info <image>')
    .description('print the provenance metadata styleloom embedded in an image, a sound (.wav, .flac, .mp3) or a video (.mp4, .webm)')
    .option('--json', 'print it as one JSON object')
    .action(async (file: string, f: { json?: boolean }) => {
      const meta = isSoundPath(file) ? await readSoundMetadata(file) : isVideoPath(file) ? await readVideoMetadata(file) : await readImageMetadata(file);
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
      let r;
      try {
        r = await downloadWeights({ url: f.url, sha256: f.sha256, dest: f.out, signal, onProgress: (got, total) => bar.update(got, total) });
      } finally {
        bar.stop();
      }
      process.stderr.write(`saved ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, sha256 ${r.sha256})\n`);
    });
  weights
    .command('path')
    .description('print where styleloom looks for cached weights')
    .action(() => {
      process.stdout.write(`${cachedWeightsPath()}\n`);
    });

  for (const cmd of [program, ...program.commands, ...weights.commands]) oneLineErrors(cmd);
  addFastCommand(program, signal);
  addGridCommand(program, signal);
  addAudioCommand(program, signal);
  addVideoCommand(program, signal);
  addScoreCommand(program, signal);
  addTrainCommand(program, signal);
  addModelsCommand(program);
  addServeCommand(program, signal);
  addWorkerCommand(program, signal);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\nstyleloom: stopping after this ${argv[2] === 'video' ? 'frame' : 'iteration'} (Ctrl-C again to quit at once)\n`);
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
      process.stderr.write(`styleloom: ${cliMessage(e)}\n`);
      return exitCodeFor(e.code);
    }
    process.stderr.write(`styleloom: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
