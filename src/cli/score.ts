// `styleloom score`: the Gatys loss terms of --image against --content and --style (scoreImage), as a small
// table on stdout or one --json line; one-line errors for missing or unreadable files.
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { scoreImage, type ScoreOptions, type ScoreResult } from '../transfer/score.js';
import { addJobCommand, jobValues } from './flags.js';
import { checkInputFiles } from './output.js';

/** What the flags of `styleloom score` parse to, by option key. */
type ScoreValues = Omit<JobValues<OptionRows, 'score'>, 'content' | 'styles' | 'image'> & { content?: string; styles?: string[]; image?: string; json?: boolean };

/** The --json line: the files, the working size, the terms (as stylize's --json `loss`) and each layer's share. */
export function scoreSummary(r: ScoreResult, files: { image: string; content: string; styles: string[] }): Record<string, unknown> {
  return { ...files, width: r.width, height: r.height, loss: r.loss, content_layers: r.layers.content, style_layers: r.layers.style };
}

/** The human table: one row per term, each layer's share indented under its term. */
export function scoreTable(r: ScoreResult): string {
  const rows: [string, number][] = [['content', r.loss.content], ...Object.entries(r.layers.content).map(([l, v]): [string, number] => [`  ${l}`, v])];
  rows.push(['style', r.loss.style], ...Object.entries(r.layers.style).map(([l, v]): [string, number] => [`  ${l}`, v]));
  rows.push(['tv', r.loss.tv], ['total', r.loss.total]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`${'term'.padEnd(w)}  loss  (at ${r.width}x${r.height})`, ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v.toExponential(4)}`)].join('\n');
}

async function runScore(flags: Record<string, unknown>, signal: AbortSignal): Promise<void> {
  const f = jobValues(flags, 'score') as ScoreValues;
  if (!f.content) throw new StyleloomError('E_USAGE', 'missing --content <file>: the content image to measure against (see styleloom score --help)');
  if (!f.styles?.length) throw new StyleloomError('E_USAGE', 'missing --style <file>: at least one style image (see styleloom score --help)');
  if (!f.image) throw new StyleloomError('E_USAGE', 'missing --image <file>: the image to score (see styleloom score --help)');
  checkInputFiles([f.content, ...f.styles, f.image]);
  const { json, ...library } = f;
  const r = await scoreImage(library as ScoreOptions, { signal });
  if (json) process.stdout.write(`${JSON.stringify(scoreSummary(r, { image: f.image, content: f.content, styles: f.styles }))}\n`);
  else process.stdout.write(`${scoreTable(r)}\n`);
}

/** Registers `styleloom score` on the program. */
export function addScoreCommand(program: Command, signal: AbortSignal): Command {
  return addJobCommand(program, 'score', "The Gatys loss terms (content, style per layer and in all, total variation) of --image against --content and --style, at the working size and with the layers and weights stylize would use: how to compare results of different methods.", async (flags) => runScore(flags, signal));
}
