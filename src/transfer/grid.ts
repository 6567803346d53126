// A contact sheet of style transfer: one row per content image, one column per style, with the content
// images as the first column and the style images as the first row (header), every cell the same
// size, and light labels (SVG text composited by sharp). Cells are made by stylize() (Gatys) or by
// a feed-forward network per column (fast mode).
import path from 'node:path';
import sharp from 'sharp';
import { StyleloomError } from '../errors.js';
import { fastStylize, loadFastModel, type LoadedFastModel } from '../fast/stylize-fast.js';
import { roundHalfEven } from '../image/caffe.js';
import { resizeTo } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { VERSION } from '../version.js';
import { loadSource } from './images.js';
import { MAX_SIZE } from './options.js';
import { label as sourceLabel, PROVENANCE_KEYS, sha256Of } from './provenance.js';
import { stylize } from './stylize.js';
import type { DeviceKind, ImageSource, LossTerms, ProgressEvent, StylizeOptions } from './types.js';

export type GridMode = 'gatys' | 'fast';
export type GridFit = 'cover' | 'contain';

export interface GridOptions {
  /** One row per content image. */
  contents: ImageSource[];
  /** One column per style image (Gatys); in fast mode optional, shown in the header above each model's column. */
  styles?: ImageSource[];
  /** 'gatys' (default): optimise each cell with stylize(); 'fast': one pre-trained network per column. */
  mode?: GridMode;
  /** Fast mode: one model per column (a folder, a name under $STYLELOOM_FAST_MODELS, or a loaded model). */
  models?: (string | LoadedFastModel)[];
  /** Cell width in px (default 128). */
  size?: number;
  /** Cell height in px (default: `size`, square cells). */
  cellHeight?: number;
  /** 'cover' (default): images are centre-cropped to fill the cell (the crop is what is stylised); 'contain': letterboxed. */
  fit?: GridFit;
  /** Pixels between cells (default 0). */
  gap?: number;
  /** Background (gaps, letterbox, corner cell), RGB (default white). */
  background?: [number, number, number];
  /** Label the header and first-column cells with the file names (default true), or give the names. */
  labels?: boolean;
  contentLabels?: string[];
  styleLabels?: string[];
  /** Gatys: stylize() options of every cell (iters, optimizer, weights, style weight, ...). */
  stylize?: Omit<StylizeOptions, 'content' | 'styles' | 'size' | 'saveEvery' | 'resume'>;
  /** Both modes: onnxruntime threads, device, and keeping the content's colours. */
  threads?: number;
  device?: DeviceKind;
  originalColors?: boolean;
}

export interface GridCellEvent {
  /** 1-based index of the finished cell, in row-major order, and the number of cells. */
  index: number;
  cells: number;
  row: number;
  col: number;
  content: string;
  style: string;
  ms: number;
  /** Gatys: loss terms of the cell's final image. */
  loss?: LossTerms;
}

export interface GridHooks {
  /** After each result cell. */
  onCell?: (e: GridCellEvent) => void;
  /** Gatys: every iteration of the current cell (1-based `cell`). */
  onProgress?: (e: ProgressEvent & { cell: number; cells: number }) => void;
  signal?: AbortSignal;
}

export interface GridLayout {
  rows: number;
  cols: number;
  cellWidth: number;
  cellHeight: number;
  gap: number;
  width: number;
  height: number;
}

/** Sheet geometry: (1 + styles) columns, (1 + contents) rows of equal cells. */
export function gridLayout(contents: number, styles: number, cellWidth: number, cellHeight = cellWidth, gap = 0): GridLayout {
  const rows = contents + 1;
  const cols = styles + 1;
  return { rows, cols, cellWidth, cellHeight, gap, width: cols * cellWidth + (cols - 1) * gap, height: rows * cellHeight + (rows - 1) * gap };
}

/** Top-left pixel of cell (row, col). */
export function cellOrigin(l: GridLayout, row: number, col: number): { x: number; y: number } {
  return { x: col * (l.cellWidth + l.gap), y: row * (l.cellHeight + l.gap) };
}

const usage = (msg: string) => new StyleloomError('E_USAGE', msg);

function whole(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw usage(`${name} must be a whole number from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/** The image fitted to a cell: cropped to exactly w x h ('cover'), or scaled to fit inside ('contain'). */
export async function fitToCell(img: RgbImage, w: number, h: number, fit: GridFit): Promise<RgbImage> {
  if (fit === 'contain') {
    const s = Math.min(w / img.width, h / img.height);
    return resizeTo(img, Math.max(1, Math.min(w, roundHalfEven(img.width * s))), Math.max(1, Math.min(h, roundHalfEven(img.height * s))));
  }
  if (img.width === w && img.height === h) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== w || info.height !== h || info.channels !== 3) throw new StyleloomError('E_INTERNAL', `cover resize gave ${info.width}x${info.height}x${info.channels}; please report`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: w, height: h };
}

const nameOf = (src: ImageSource | LoadedFastModel | string | undefined, fallback: string): string =>
  src === undefined ? fallback : typeof src === 'string' ? path.parse(src).name || src : 'name' in src && typeof src.name === 'string' ? src.name : fallback;

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** One SVG with a translucent band and a name at the bottom of each labelled cell. */
function labelsSvg(l: GridLayout, cells: { row: number; col: number; text: string }[]): string {
  const band = Math.max(9, Math.round(l.cellHeight * 0.13));
  const fs = Math.max(7, Math.round(band * 0.72));
  const pad = Math.max(2, Math.round(fs * 0.35));
  const maxChars = Math.max(1, Math.floor((l.cellWidth - 2 * pad) / (0.6 * fs)));
  const parts = cells
    .filter((c) => c.text)
    .map((c) => {
      const { x, y } = cellOrigin(l, c.row, c.col);
      const text = c.text.length > maxChars ? `${c.text.slice(0, Math.max(1, maxChars - 1))}…` : c.text;
      const top = y + l.cellHeight - band;
      return (
        `<rect x="${x}" y="${top}" width="${l.cellWidth}" height="${band}" fill="black" fill-opacity="0.5"/>` +
        `<text x="${x + pad}" y="${top + band / 2}" dominant-baseline="central" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="${fs}" fill="white">${escapeXml(text)}</text>`
      );
    });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}">${parts.join('')}</svg>`;
}

/**
 * Renders the contact sheet: header row of style images (or blank cells named after the models), first
 * column of content images, and a stylised cell for every (content, style). Resolves to the RGB sheet
 * (see gridLayout for its geometry); rejects with a StyleloomError (E_ABORTED when `signal` fires).
 */
export async function renderGrid(options: GridOptions, hooks: GridHooks = {}): Promise<RgbImage> {
  const mode = options.mode ?? 'gatys';
  if (mode !== 'gatys' && mode !== 'fast') throw usage(`mode must be gatys or fast, got ${String(mode)}`);
  const contents = options.contents ?? [];
  const styles = options.styles ?? [];
  const models = options.models ?? [];
  if (!Array.isArray(contents) || contents.length === 0) throw usage('a grid needs at least one content image (--content FILE...)');
  if (mode === 'gatys') {
    if (styles.length === 0) throw usage('a grid needs at least one style image (--style FILE...)');
    if (models.length) throw usage('models are for --mode fast; in gatys mode give style images only');
  } else {
    if (models.length === 0) throw usage('--mode fast needs one model per column (--model DIR...)');
    if (styles.length && styles.length !== models.length) throw usage(`${styles.length} style images for ${models.length} models: give one style image per model (shown in the header), or none`);
  }
  const cw = whole('size', options.size ?? 128, 16, MAX_SIZE);
  const ch = whole('cellHeight', options.cellHeight ?? cw, 16, MAX_SIZE);
  const gap = whole('gap', options.gap ?? 0, 0, 1024);
  const fit = options.fit ?? 'cover';
  if (fit !== 'cover' && fit !== 'contain') throw usage(`fit must be cover or contain, got ${String(fit)}`);
  const bg = options.background ?? [255, 255, 255];
  const ncols = mode === 'gatys' ? styles.length : models.length;
  const layout = gridLayout(contents.length, ncols, cw, ch, gap);
  const px = layout.width * layout.height;
  if (px > 200_000_000) throw usage(`the sheet would be ${layout.width}x${layout.height} pixels; use a smaller --size or fewer images`);
  const checkAborted = () => {
    if (hooks.signal?.aborted) throw new StyleloomError('E_ABORTED', 'grid cancelled');
  };

  const sheet = new Uint8Array(px * 3);
  for (let k = 0; k < px; k++) sheet.set(bg, 3 * k);
  const place = (img: RgbImage, row: number, col: number) => {
    const o = cellOrigin(layout, row, col);
    const x0 = o.x + Math.floor((cw - img.width) / 2);
    const y0 = o.y + Math.floor((ch - img.height) / 2);
    for (let y = 0; y < img.height; y++) {
      sheet.set(img.data.subarray(3 * y * img.width, 3 * (y + 1) * img.width), 3 * ((y0 + y) * layout.width + x0));
    }
  };

  const contentImgs = await Promise.all(contents.map(loadSource));
  const styleImgs = await Promise.all(styles.map(loadSource));
  const cells = await Promise.all(contentImgs.map((c) => fitToCell(c, cw, ch, fit)));
  for (let r = 0; r < cells.length; r++) place(cells[r], r + 1, 0);
  for (let c = 0; c < styleImgs.length; c++) place(await fitToCell(styleImgs[c], cw, ch, fit), 0, c + 1);

  const owned: LoadedFastModel[] = [];
  const loadedModels: LoadedFastModel[] = [];
  try {
    for (const m of models) {
      if (typeof m === 'string') {
        const lm = await loadFastModel(m);
        owned.push(lm);
        loadedModels.push(lm);
      } else loadedModels.push(m);
    }
    const contentNames = contents.map((c, k) => options.contentLabels?.[k] ?? nameOf(c, `content ${k + 1}`));
    const styleNames = Array.from({ length: ncols }, (_, k) => options.styleLabels?.[k] ?? (styles[k] !== undefined ? nameOf(styles[k], `style ${k + 1}`) : nameOf(loadedModels[k], `model ${k + 1}`)));
    const total = contents.length * ncols;
    let index = 0;
    for (let r = 0; r < contents.length; r++) {
      for (let c = 0; c < ncols; c++) {
        checkAborted();
        const t = performance.now();
        const cell = index + 1;
        let img: RgbImage;
        let loss: LossTerms | undefined;
        if (mode === 'gatys') {
          const res = await stylize(
            { ...options.stylize, threads: options.threads ?? options.stylize?.threads, device: options.device ?? options.stylize?.device, originalColors: options.originalColors ?? options.stylize?.originalColors, content: cells[r], styles: [styleImgs[c]], size: Math.max(cells[r].width, cells[r].height) },
            { signal: hooks.signal, onProgress: hooks.onProgress ? (e) => hooks.onProgress!({ ...e, cell, cells: total }) : undefined },
          );
          img = res.image;
          loss = res.loss;
        } else {
          img = await fastStylize(cells[r], loadedModels[c], { threads: options.threads, device: options.device, originalColors: options.originalColors, signal: hooks.signal });
        }
        if (img.width !== cells[r].width || img.height !== cells[r].height) {
          throw new StyleloomError('E_INTERNAL', `cell ${cell} came out ${img.width}x${img.height} for a ${cells[r].width}x${cells[r].height} input; please report`);
        }
        place(img, r + 1, c + 1);
        index = cell;
        hooks.onCell?.({ index: cell, cells: total, row: r, col: c, content: contentNames[r], style: styleNames[c], ms: performance.now() - t, loss });
      }
    }
    if (options.labels === false) return { data: sheet, width: layout.width, height: layout.height };
    const svg = labelsSvg(layout, [...contentNames.map((text, r) => ({ row: r + 1, col: 0, text })), ...styleNames.map((text, c) => ({ row: 0, col: c + 1, text }))]);
    const { data, info } = await sharp(sheet, { raw: { width: layout.width, height: layout.height, channels: 3 } })
      .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== layout.width || info.height !== layout.height || info.channels !== 3) throw new StyleloomError('E_INTERNAL', 'label compositing changed the sheet size; please report');
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: layout.width, height: layout.height };
  } finally {
    await Promise.all(owned.map((m) => m.release()));
  }
}

/** Provenance text for a sheet (PNG text chunks / EXIF): software, parameters, SHA-256 of the inputs, attribution. */
export async function gridProvenance(options: GridOptions, sheet: { width: number; height: number }): Promise<Record<string, string>> {
  const mode = options.mode ?? 'gatys';
  const contents = options.contents.map(sourceLabel);
  const styles = (options.styles ?? []).map(sourceLabel);
  const models = (options.models ?? []).map((m) => nameOf(m, 'model'));
  const { weights, ...st } = options.stylize ?? {};
  const params = {
    kind: 'grid',
    mode,
    contents,
    styles,
    models: models.length ? models : undefined,
    size: options.size ?? 128,
    cellHeight: options.cellHeight,
    fit: options.fit ?? 'cover',
    gap: options.gap ?? 0,
    originalColors: options.originalColors,
    ...(mode === 'gatys' ? { ...st, weights: weights ? path.basename(weights) : undefined } : {}),
    width: sheet.width,
    height: sheet.height,
  };
  const how = mode === 'gatys' ? 'neural style transfer (Gatys et al. optimisation' : 'fast neural style transfer (feed-forward networks, Johnson et al. 2016';
  const by = mode === 'gatys' ? styles.join(', ') : `${models.join(', ')}${styles.length ? ` (${styles.join(', ')})` : ''}`;
  const meta: Record<string, string> = {
    [PROVENANCE_KEYS.software]: `styleloom ${VERSION}`,
    [PROVENANCE_KEYS.description]:
      `Contact sheet generated by ${how}; styleloom ${VERSION}): rows are the content images ${contents.join(', ')}, columns the styles ${by}; ` +
      'the styles belong to their artists and sources.',
    [PROVENANCE_KEYS.parameters]: JSON.stringify(params),
    [PROVENANCE_KEYS.contentSha256]: (await Promise.all(options.contents.map(sha256Of))).join(','),
  };
  if (options.styles?.length) meta[PROVENANCE_KEYS.styleSha256] = (await Promise.all(options.styles.map(sha256Of))).join(',');
  return meta;
}
