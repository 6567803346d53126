// `styleloom grid`: a content x style contact sheet (renderGrid), progress per cell on stderr, written
// atomically with provenance, --json summary, one-line errors.
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import { writeImage } from '../image/io.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { gridProvenance, renderGrid, type GridCellEvent, type GridOptions } from '../transfer/grid.js';
import { addJobCommand, jobValues } from './flags.js';
import { checkInputFiles, checkOutputPath } from './output.js';

/** What the flags of `styleloom grid` parse to, by option key (defaults from the option table). */
type GridValues = Omit<JobValues<OptionRows, 'grid'>, 'content' | 'styles' | 'model'> & {
  content: string[];
  styles?: string[];
  model?: string[];
  out: string;
  size: number;
  iters: number;
  mode: 'gatys' | 'fast';
  metadata: boolean;
};

async function runGrid(flags: Record<string, unknown>, signal: AbortSignal): Promise<void> {
  const f = jobValues(flags, 'grid') as GridValues;
  const style = f.styles;
  checkOutputPath(f.out, [...f.content, ...(style ?? [])], { example: 'grid.png' });
  checkInputFiles([...f.content, ...(style ?? [])]);
  if (f.mode === 'gatys' && f.model?.length) throw new StyleloomError('E_USAGE', '--model is for --mode fast; in gatys mode give --style images');
  const options: GridOptions = {
    contents: f.content,
    styles: style,
    mode: f.mode,
    models: f.model,
    size: f.size,
    cellHeight: f.cellHeight,
    fit: f.fit,
    gap: f.gap,
    labels: f.labels,
    threads: f.threads,
    device: f.device,
    originalColors: f.originalColors,
    stylize:
      f.mode === 'gatys'
        ? { iters: f.iters, optimizer: f.optimizer, lr: f.lr, contentWeight: f.contentWeight, styleWeight: f.styleWeight, tvWeight: f.tvWeight, styleScale: f.styleScale, pool: f.pool, seed: f.seed, weights: f.weights }
        : undefined,
  };
  const tty = Boolean(process.stderr.isTTY);
  const cols = f.mode === 'gatys' ? (style?.length ?? 0) : (f.model?.length ?? 0);
  const cells = f.content.length * cols;
  const perCell = f.mode === 'gatys' ? f.iters : 1;
  const bar = tty
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'styleloom grid {bar} cell {cell}/{cells} {name} | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(cells * perCell, 0, { cell: 1, cells, name: '' });
  const onCell = (e: GridCellEvent) => {
    if (bar) bar.update(e.index * perCell, { cell: Math.min(e.index + 1, cells), cells, name: `${e.content} x ${e.style}` });
    else {
      const loss = e.loss ? `, loss ${e.loss.total.toExponential(4)}` : '';
      process.stderr.write(`grid cell ${e.index}/${e.cells}: ${e.content} x ${e.style} (${(e.ms / 1000).toFixed(1)} s${loss})\n`);
    }
  };
  const t0 = performance.now();
  let sheet;
  try {
    sheet = await renderGrid(options, {
      signal,
      onCell,
      onProgress: bar ? (e) => bar.update((e.cell - 1) * perCell + e.iter, { cell: e.cell, cells }) : undefined,
    });
  } finally {
    bar?.stop();
  }
  await writeImage(f.out, sheet, f.metadata ? { metadata: await gridProvenance(options, sheet) } : {});
  const ms = performance.now() - t0;
  const summary = { out: f.out, width: sheet.width, height: sheet.height, rows: f.content.length, cols, cells, ms: Number(ms.toFixed(1)) };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stderr.write(`wrote ${f.out} (${sheet.width}x${sheet.height}, ${f.content.length} x ${cols} cells) in ${(ms / 1000).toFixed(1)} s\n`);
}

/** Registers `styleloom grid` on the program. */
export function addGridCommand(program: Command, signal: AbortSignal): Command {
  return addJobCommand(program, 'grid', 'Contact sheet: every --content image (rows) in every --style (columns), with the originals as the first column and the styles as the header row.', async (flags) => runGrid(flags, signal));
}
