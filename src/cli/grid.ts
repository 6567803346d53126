// `styleloom grid`: a content x style contact sheet (renderGrid), progress per cell on stderr, written
// atomically with provenance, --json summary, one-line errors.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { StyleloomError } from '../errors.js';
import { formatForPath, writeImage } from '../image/io.js';
import { defaultThreads } from '../runtime/session.js';
import { gridProvenance, renderGrid, type GridCellEvent, type GridOptions } from '../transfer/grid.js';
import { DEFAULTS } from '../transfer/options.js';
import { integer, number } from './parse.js';

interface GridFlags {
  content: string[];
  style?: string[];
  out: string;
  size: number;
  cellHeight?: number;
  iters: number;
  mode: 'gatys' | 'fast';
  model?: string[];
  optimizer: 'lbfgs' | 'adam';
  lr: number;
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  styleScale: number;
  pool: 'max' | 'avg';
  seed: number;
  weights?: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  fit: 'cover' | 'contain';
  gap: number;
  labels: boolean;
  originalColors?: boolean;
  json?: boolean;
  metadata: boolean;
}

export const GRID_DEFAULT_ITERS = 100;

function checkOut(out: string): void {
  formatForPath(out);
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out} is a directory; give a file name such as ${path.join(out, 'grid.png')}`);
  const dir = path.dirname(path.resolve(out));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out}: directory ${path.dirname(out)} does not exist; create it first`);
}

function checkInputs(files: string[]): void {
  for (const c of files) {
    const st = fs.statSync(c, { throwIfNoEntry: false });
    if (!st) throw new StyleloomError('E_INPUT', `${c}: no such file; check the path`);
    if (st.isDirectory()) throw new StyleloomError('E_INPUT', `${c}: is a directory, not an image; name an image file`);
  }
}

async function runGrid(f: GridFlags, signal: AbortSignal): Promise<void> {
  checkOut(f.out);
  checkInputs([...f.content, ...(f.style ?? [])]);
  if (f.mode === 'gatys' && f.model?.length) throw new StyleloomError('E_USAGE', '--model is for --mode fast; in gatys mode give --style images');
  if (f.iters < 1) throw new StyleloomError('E_USAGE', `--iters must be at least 1, got ${f.iters}`);
  const options: GridOptions = {
    contents: f.content,
    styles: f.style,
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
  const cols = f.mode === 'gatys' ? (f.style?.length ?? 0) : (f.model?.length ?? 0);
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
  const cmd = program
    .command('grid')
    .description('Contact sheet: every --content image (rows) in every --style (columns), with the originals as the first column and the styles as the header row.')
    .requiredOption('--content <file...>', 'content images, one row each')
    .option('--style <file...>', 'style images, one column each (gatys); with --mode fast, optional header images, one per model')
    .option('--out <file>', 'output sheet (.png, .jpg or .webp)', 'grid.png')
    .option('--size <px>', 'cell width, px', integer, 128)
    .option('--cell-height <px>', 'cell height, px (default: --size, square cells)', integer)
    .option('--iters <n>', 'iterations per cell (gatys)', integer, GRID_DEFAULT_ITERS)
    .addOption(new Option('--mode <mode>', 'gatys (optimise each cell) or fast (a pre-trained network per column)').choices(['gatys', 'fast']).default('gatys'))
    .option('--model <dir...>', 'with --mode fast: one model folder (or name under $STYLELOOM_FAST_MODELS) per column')
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['lbfgs', 'adam']).default(DEFAULTS.optimizer))
    .option('--lr <x>', 'Adam learning rate, in 0..255 grey levels', number, DEFAULTS.lr)
    .option('--content-weight <x>', 'weight of the content loss', number, DEFAULTS.contentWeight)
    .option('--style-weight <x>', 'weight of the style loss', number, DEFAULTS.styleWeight)
    .option('--tv-weight <x>', 'weight of the total-variation loss', number, DEFAULTS.tvWeight)
    .option('--style-scale <x>', 'style image size relative to the cell', number, DEFAULTS.styleScale)
    .addOption(new Option('--pool <kind>', 'pooling in VGG').choices(['max', 'avg']).default(DEFAULTS.pool))
    .option('--seed <n>', 'seed (same seed + threads = same bits)', integer, DEFAULTS.seed)
    .option('--weights <file>', 'VGG-19 safetensors (default: $STYLELOOM_WEIGHTS, then the cache)')
    .option('--threads <n>', `CPU threads (default: number of cores, here ${defaultThreads()})`, integer)
    .addOption(new Option('--device <name>', 'execution provider').choices(['cpu', 'cuda']).default(DEFAULTS.device))
    .addOption(new Option('--fit <how>', 'cover: crop every image to the cell (what is stylised); contain: letterbox').choices(['cover', 'contain']).default('cover'))
    .option('--gap <px>', 'pixels between cells', integer, 0)
    .option('--no-labels', 'no file names on the header and first-column cells')
    .option('--original-colors', "keep the content's colours (stylised luminance, content chroma)")
    .option('--json', 'print one JSON line of results on stdout')
    .option('--no-metadata', 'do not embed provenance (software, parameters, input SHA-256, attribution)')
    .action(async (flags: GridFlags) => runGrid(flags, signal));
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (str, write) => write(`styleloom: ${str.replace(/^error: /, '').trimEnd()} (see styleloom grid --help)\n`) });
  return cmd;
}
