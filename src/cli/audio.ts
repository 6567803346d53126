// `styleloom audio`: sound style transfer (Ulyanov & Lebedev 2016) with the audio peer's flags, plus
// --texture and --spectrogram; progress on stderr, --json results, one-line errors, nothing written on failure.
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import { writeImage } from '../image/io.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { audioProvenance } from '../audio/provenance.js';
import { soundFormatFor, writeSound } from '../audio/sound-io.js';
import { renderSpectrograms, resultPanels } from '../audio/spectrogram-png.js';
import { stylizeAudio } from '../audio/stylize-audio.js';
import type { AudioOptions, AudioProgressEvent } from '../audio/types.js';
import { checkCanWrite } from '../util/atomic.js';
import { addJobCommand, jobValues } from './flags.js';

type AudioFlags = JobValues<OptionRows, 'audio'> & { out: string; printEvery: number; metadata: boolean; json: boolean; spectrogram?: string };

const CLI_ONLY = ['out', 'json', 'metadata', 'printEvery', 'spectrogram'];

const real = (p: string) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/** An output path the command can write: an existing directory that takes files, not a directory, not an input. */
function checkWritable(file: string, flag: string, inputs: string[]): void {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${flag} ${file} is a directory; give a file name`);
  const dir = path.dirname(path.resolve(file));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${file}: directory ${path.dirname(file)} does not exist; create it first`);
  for (const i of inputs) if (real(i) === real(file)) throw new StyleloomError('E_USAGE', `${flag} ${file} is the input ${i}: writing it would destroy the input; choose another name`);
  checkCanWrite(path.resolve(file));
}

const fmt = (v: number) => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toFixed(2));

function reporter(tty: boolean, printEvery: number) {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'styleloom audio {phase} {bar} {value}/{total} | {info} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: false, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    let phase = '';
    return {
      update(e: AudioProgressEvent) {
        const info = e.loss ? `loss ${fmt(e.loss.total)} (content ${fmt(e.loss.content)}, style ${fmt(e.loss.style)}) ${e.ms.toFixed(0)} ms/iter` : 'Griffin-Lim';
        if (e.phase !== phase) {
          if (phase) bar.stop();
          bar.start(e.iters, 0, { phase: e.phase === 'optimise' ? 'L-BFGS     ' : 'phase (GL) ', info });
          phase = e.phase;
        }
        bar.update(e.iter, { info });
      },
      stop: () => {
        if (phase) bar.stop();
      },
    };
  }
  return {
    update(e: AudioProgressEvent) {
      if (printEvery <= 0 || (e.iter % printEvery !== 0 && e.iter !== e.iters)) return;
      if (e.loss) process.stderr.write(`iter ${e.iter}/${e.iters}  loss ${fmt(e.loss.total)} (content ${fmt(e.loss.content)}, style ${fmt(e.loss.style)})  ${e.ms.toFixed(0)} ms/iter\n`);
      else if (e.iter === e.iters) process.stderr.write(`Griffin-Lim ${e.iter}/${e.iters} done\n`);
    },
    stop() {},
  };
}

async function runAudio(flags: Record<string, unknown>, signal: AbortSignal): Promise<void> {
  const f = jobValues(flags, 'audio') as AudioFlags;
  if (!f.styles?.length) throw new StyleloomError('E_USAGE', 'missing --style <file>: the sound whose texture to use (see styleloom audio --help)');
  if (f.content === undefined && f.texture === undefined) throw new StyleloomError('E_USAGE', 'missing --content <file> (the sound to repaint) or --texture <seconds> (see styleloom audio --help)');
  const inputs = [f.content, ...f.styles].filter((x): x is string => typeof x === 'string');
  soundFormatFor(f.out);
  checkWritable(f.out, '--out', inputs);
  if (f.spectrogram !== undefined) {
    if (path.extname(f.spectrogram).toLowerCase() !== '.png') throw optionError('E_USAGE', `{spectrogram} ${f.spectrogram}: the picture is a PNG; name it .png`);
    if (real(f.spectrogram) === real(f.out)) throw optionError('E_USAGE', '{spectrogram} and {out} are the same file; give two names');
    checkWritable(f.spectrogram, '--spectrogram', inputs);
  }
  const library = Object.fromEntries(Object.entries(f).filter(([k]) => !CLI_ONLY.includes(k))) as unknown as AudioOptions;
  const bar = reporter(Boolean(process.stderr.isTTY), f.printEvery);
  let result;
  try {
    result = await stylizeAudio(library, { signal, onProgress: (e) => bar.update(e) });
  } finally {
    bar.stop();
  }
  await writeSound(f.out, result.sound, { sampleFormat: f.sampleFormat, metadata: f.metadata ? audioProvenance(library, result) : undefined });
  if (f.spectrogram !== undefined) {
    const name = (x: unknown, d: string) => (typeof x === 'string' ? path.basename(x) : d);
    const panels = resultPanels(result.spectrograms, { content: name(f.content, 'content'), style: name(f.styles[0], 'style'), result: path.basename(f.out) });
    try {
      await writeImage(f.spectrogram, await renderSpectrograms(panels));
    } catch (e) {
      throw new StyleloomError('E_OUTPUT', `wrote ${f.out}, but not the spectrogram ${f.spectrogram}: ${(e as Error).message}`);
    }
  }
  const summary = { iters: result.iters, ms_per_iter: Number(result.msPerIter.toFixed(3)), loss: result.loss, duration: Number(result.duration.toFixed(3)), out: f.out };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stderr.write(
      `wrote ${f.out} (${summary.duration.toFixed(2)} s) after ${summary.iters} iterations, ${summary.ms_per_iter.toFixed(1)} ms/iter; final loss ${result.loss.total.toExponential(4)}${f.spectrogram ? `; spectrograms ${f.spectrogram}` : ''}\n`,
    );
  }
}

/** Registers `styleloom audio` on the program. */
export function addAudioCommand(program: Command, signal: AbortSignal): Command {
  return addJobCommand(program, 'audio', "Audio style transfer (after Ulyanov & Lebedev 2016): repaint --content in the texture and timbre of --style, or synthesise the style's texture (--texture).", async (flags) => runAudio(flags, signal));
}
