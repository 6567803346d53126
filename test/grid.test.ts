// The contact sheet: renderGrid() geometry (header row of styles, first column of contents, result
// cells), labels touching only their bands, and `styleloom grid` end to end with provenance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { cellOrigin, gridLayout, readImage, renderGrid, StyleloomError, type GridOptions, type RgbImage } from '../src/index.js';
import { readImageMetadata } from '../src/image/metadata.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { assertOneLineError, runCli, showRun, tempDir } from './helpers/cli.js';

const IMG = path.join(ASSETS, 'images');
const CONTENTS = [path.join(IMG, 'chelsea.png'), path.join(IMG, 'astronaut.png')];
const STYLES = [path.join(IMG, 'starry_night.jpg'), path.join(IMG, 'the_scream.jpg')];
const CELL = 32;

const options: GridOptions = {
  contents: CONTENTS,
  styles: STYLES,
  size: CELL,
  labels: false,
  threads: 1,
  stylize: { iters: 2, optimizer: 'adam', weights: VGG_PARTIAL },
};

/** Pixels of cell (row, col) of a sheet, RGB. */
function cell(sheet: RgbImage, row: number, col: number): Buffer {
  const l = gridLayout(CONTENTS.length, STYLES.length, CELL);
  const { x, y } = cellOrigin(l, row, col);
  const out = Buffer.alloc(CELL * CELL * 3);
  for (let r = 0; r < CELL; r++) out.set(sheet.data.subarray(3 * ((y + r) * sheet.width + x), 3 * ((y + r) * sheet.width + x + CELL)), 3 * r * CELL);
  return out;
}

/** The file decoded, then centre-cropped and resized (Lanczos-3) to a CELL x CELL cell. */
async function covered(file: string): Promise<Buffer> {
  const img = await readImage(file);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(CELL, CELL, { fit: 'cover', position: 'centre', kernel: 'lanczos3' }).raw().toBuffer();
}

let plain: Promise<{ sheet: RgbImage; cells: string[] }> | undefined;
const plainSheet = () =>
  (plain ??= (async () => {
    const cells: string[] = [];
    const sheet = await renderGrid(options, { onCell: (e) => cells.push(`${e.index}/${e.cells} ${e.content} x ${e.style}`) });
    return { sheet, cells };
  })());

test('a 2x2 grid: dimensions, header = styles, first column = contents, four different results, progress per cell', async () => {
  const { sheet, cells } = await plainSheet();
  assert.equal(sheet.width, (1 + STYLES.length) * CELL);
  assert.equal(sheet.height, (1 + CONTENTS.length) * CELL);
  assert.equal(sheet.data.length, sheet.width * sheet.height * 3);
  assert.deepEqual(cells, ['1/4 chelsea x starry_night', '2/4 chelsea x the_scream', '3/4 astronaut x starry_night', '4/4 astronaut x the_scream']);
  for (let c = 0; c < STYLES.length; c++) assert.ok(cell(sheet, 0, c + 1).equals(await covered(STYLES[c])), `header cell ${c + 1} is the style image`);
  for (let r = 0; r < CONTENTS.length; r++) assert.ok(cell(sheet, r + 1, 0).equals(await covered(CONTENTS[r])), `row ${r + 1} starts with the content image`);
  assert.ok(cell(sheet, 0, 0).equals(Buffer.alloc(CELL * CELL * 3, 255)), 'the corner is background');
  const results = [cell(sheet, 1, 1), cell(sheet, 1, 2), cell(sheet, 2, 1), cell(sheet, 2, 2)];
  for (let i = 0; i < results.length; i++) {
    for (let j = i + 1; j < results.length; j++) assert.ok(!results[i].equals(results[j]), `result cells ${i} and ${j} differ`);
  }
  for (let r = 0; r < CONTENTS.length; r++) assert.ok(!results[2 * r].equals(cell(sheet, r + 1, 0)), 'results are stylised, not the content');
});

test('labels change only the bottom band of the header and first-column cells', async () => {
  const { sheet } = await plainSheet();
  const labelled = await renderGrid({ ...options, labels: true });
  assert.deepEqual([labelled.width, labelled.height], [sheet.width, sheet.height]);
  const band = 9; // max(9, round(0.13 * 32)) px
  let changed = 0;
  for (let y = 0; y < sheet.height; y++) {
    for (let x = 0; x < sheet.width; x++) {
      const [row, col] = [Math.floor(y / CELL), Math.floor(x / CELL)];
      const inBand = (row === 0) !== (col === 0) && y % CELL >= CELL - band;
      const k = 3 * (y * sheet.width + x);
      const same = labelled.data[k] === sheet.data[k] && labelled.data[k + 1] === sheet.data[k + 1] && labelled.data[k + 2] === sheet.data[k + 2];
      if (!inBand) assert.ok(same, `pixel ${x},${y} (cell ${row},${col}) is unchanged`);
      else if (!same) changed++;
    }
  }
  assert.ok(changed > 0.5 * band * CELL * (CONTENTS.length + STYLES.length), `the label bands are drawn (${changed} pixels)`);
});

test('bad grid options are E_USAGE errors', async () => {
  const bad = (o: Partial<GridOptions>, re: RegExp) =>
    assert.rejects(renderGrid({ ...options, ...o }), (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE' && re.test(e.message));
  await bad({ contents: [] }, /at least one content image/);
  await bad({ styles: [] }, /at least one style image/);
  await bad({ size: 8 }, /size must be a whole number from 16/);
  await bad({ mode: 'fast' }, /one model per column/);
});

test('styleloom grid writes the sheet with provenance; bad usage is one line', async () => {
  const dir = tempDir();
  const out = path.join(dir, 'grid.png');
  const r = await runCli(['grid', '--content', CONTENTS[0], '--style', ...STYLES, '--size', '32', '--iters', '1', '--optimizer', 'adam', '--weights', VGG_PARTIAL, '--threads', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, showRun(r));
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.width, j.height, j.rows, j.cols, j.cells], [96, 64, 1, 2, 2]);
  assert.equal((r.stderr.match(/^grid cell \d\/2: /gm) ?? []).length, 2, r.stderr);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height], [96, 64]);
  const prov = await readImageMetadata(out);
  assert.match(prov.Description, /Contact sheet .*chelsea\.png.*starry_night\.jpg, the_scream\.jpg/);
  assert.equal(JSON.parse(prov['styleloom:parameters']).iters, 1);
  assertOneLineError(await runCli(['grid', '--content', CONTENTS[0], '--out', out]), { code: 2, match: ['at least one style image'] });
  assertOneLineError(await runCli(['grid', '--content', CONTENTS[0], '--style', STYLES[0], '--model', 'x', '--out', out]), { code: 2, match: ['--model is for --mode fast'] });
});
