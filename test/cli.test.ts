// The `styleloom` command end to end at tiny sizes: the --json summary, the written image, optimiser /
// pooling / init / blend flags, determinism of the noise init, numbered previews, --help, the
// STYLELOOM_WEIGHTS variable and the non-terminal progress lines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { CHELSEA, COFFEE, GREAT_WAVE, STARRY, longSide, nonEmptyLines, runCli, showRun, tempDir, type CliResult } from './helpers/cli.js';

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
  format?: string;
}

async function decode(file: string): Promise<Decoded> {
  const meta = await sharp(file).metadata();
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels, format: meta.format };
}

/** An image resized (Lanczos-3, aspect not kept) to width x height, as RGB bytes. */
async function resized(file: string, width: number, height: number): Promise<Buffer> {
  return sharp(file).removeAlpha().resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]);
  return s / a.length;
}

function assertOk(r: CliResult): void {
  assert.equal(r.code, 0, showRun(r));
}

interface Summary {
  iters: number;
  ms_per_iter: number;
  loss: { content: number; style: number; tv: number; total: number };
  width: number;
  height: number;
  out: string;
}

/** stdout is exactly one line of JSON with exactly the documented keys; returns it parsed. */
function parseSummary(r: CliResult): Summary {
  assert.ok(r.stdout.endsWith('\n'), `stdout ends with a newline\n${showRun(r)}`);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 2, `stdout must be exactly one line\n${showRun(r)}`);
  const j = JSON.parse(lines[0]) as Summary;
  assert.deepEqual(Object.keys(j).sort(), ['height', 'iters', 'loss', 'ms_per_iter', 'out', 'width']);
  assert.deepEqual(Object.keys(j.loss).sort(), ['content', 'style', 'total', 'tv']);
  for (const [k, v] of Object.entries(j.loss)) {
    assert.equal(typeof v, 'number');
    assert.ok(Number.isFinite(v) && v > 0, `loss.${k} = ${v} must be finite and positive`);
  }
  assert.ok(Math.abs(j.loss.total - (j.loss.content + j.loss.style + j.loss.tv)) <= 1e-3 * j.loss.total, 'total = content + style + tv');
  assert.ok(Number.isFinite(j.ms_per_iter) && j.ms_per_iter > 0, `ms_per_iter ${j.ms_per_iter}`);
  return j;
}

const CHELSEA_W = 451;
const CHELSEA_H = 300;

/** Common flags of the small runs: partial weights, one thread, no progress lines. */
function small(out: string, size = 32, iters = 3): string[] {
  return ['--weights', VGG_PARTIAL, '--size', String(size), '--iters', String(iters), '--threads', '1', '--print-every', '0', '--out', out];
}

describe('styleloom end to end', { concurrency: 2 }, () => {
  let baseline: Promise<{ r: CliResult; out: string }> | undefined;
  /** The run of the issue, at 64 px and 10 iterations (shared by the tests that compare with it). */
  function baselineRun() {
    baseline ??= (async () => {
      const out = path.join(tempDir('styleloom-cli-'), 'o.png');
      const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '64', '--iters', '10', '--json', '--out', out]);
      return { r, out };
    })();
    return baseline;
  }

  test('64 px, 10 iterations, --json: one JSON line, a 64x43 RGB PNG that is stylised', async () => {
    const { r, out } = await baselineRun();
    assertOk(r);
    const j = parseSummary(r);
    const expected = longSide(CHELSEA_W, CHELSEA_H, 64);
    assert.deepEqual(expected, { width: 64, height: 43 }); // 300 * 64 / 451 = 42.57
    assert.equal(j.iters, 10);
    assert.equal(j.width, 64);
    assert.equal(j.height, 43);
    assert.equal(j.out, out);
    const img = await decode(out);
    assert.equal(img.format, 'png');
    assert.deepEqual([img.width, img.height, img.channels], [64, 43, 3]);
    const content = await resized(CHELSEA, 64, 43);
    const d = meanAbsDiff(img.data, content);
    // ~3.5 grey levels here: 10 L-BFGS steps without line search move a 64 px image only a little
    assert.ok(d > 1.5, `the output should differ from the resized content (mean |diff| ${d.toFixed(2)} grey levels)`);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['o.png'], 'no temp or preview files');
  });

  test('--optimizer adam', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'adam.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, ...small(out, 48, 8), '--optimizer', 'adam', '--json']);
    assertOk(r);
    const j = parseSummary(r);
    assert.deepEqual([j.width, j.height, j.iters], [48, longSide(CHELSEA_W, CHELSEA_H, 48).height, 8]);
    const img = await decode(out);
    const d = meanAbsDiff(img.data, await resized(CHELSEA, img.width, img.height));
    assert.ok(d > 3, `adam output should differ from the content (mean |diff| ${d.toFixed(2)})`);
  });

  test('two styles with --style-blend-weights 3,1', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'blend.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, GREAT_WAVE, '--style-blend-weights', '3,1', ...small(out), '--json']);
    assertOk(r);
    const j = parseSummary(r);
    assert.deepEqual([j.width, j.height], [32, longSide(CHELSEA_W, CHELSEA_H, 32).height]);
    assert.ok(fs.existsSync(out));
  });

  test('--pool avg gives a different image from --pool max', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'avg.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '64', '--iters', '10', '--pool', 'avg', '--json', '--out', out]);
    assertOk(r);
    const j = parseSummary(r);
    assert.deepEqual([j.width, j.height], [64, 43]);
    const base = await baselineRun();
    assertOk(base.r);
    const avg = await decode(out);
    const max = await decode(base.out);
    assert.ok(meanAbsDiff(avg.data, max.data) > 0.5, 'avg and max pooling should not give the same image'); // ~2.4
  });

  test('--init noise --seed 3 twice: bit-identical files; --seed 4: a different file', async () => {
    const dir = tempDir('styleloom-cli-');
    const run = (name: string, seed: number) =>
      runCli(['--content', CHELSEA, '--style', STARRY, ...small(path.join(dir, name)), '--init', 'noise', '--seed', String(seed)]);
    const [a, b] = await Promise.all([run('a.png', 3), run('b.png', 3)]);
    assertOk(a);
    assertOk(b);
    const c = await run('c.png', 4);
    assertOk(c);
    const fa = fs.readFileSync(path.join(dir, 'a.png'));
    const fb = fs.readFileSync(path.join(dir, 'b.png'));
    const fc = fs.readFileSync(path.join(dir, 'c.png'));
    assert.ok(fa.equals(fb), 'same seed and threads must give the same bits');
    assert.ok(!fa.equals(fc), 'another seed must give another image');
    // noise init: far from the content after 3 iterations
    const img = await decode(path.join(dir, 'a.png'));
    assert.ok(meanAbsDiff(img.data, await resized(CHELSEA, img.width, img.height)) > 10);
  });

  test('--init <image file> starts from that image (resized to the content size)', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'init.png');
    // one L-BFGS step barely moves x (LOSS.md), so the result is still close to the init image
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, ...small(out, 32, 1), '--init', COFFEE]);
    assertOk(r);
    const img = await decode(out);
    const toInit = meanAbsDiff(img.data, await resized(COFFEE, img.width, img.height));
    const toContent = meanAbsDiff(img.data, await resized(CHELSEA, img.width, img.height));
    assert.ok(toInit < 3 && toInit < toContent / 3, `|out - init| ${toInit.toFixed(2)}, |out - content| ${toContent.toFixed(2)}`);
  });

  test('--save-every 5 --iters 10 writes o_0005.png, the final o.png (no o_0010.png) and the resumable o.png.state', async () => {
    const dir = tempDir('styleloom-cli-');
    const out = path.join(dir, 'o.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, ...small(out, 32, 10), '--save-every', '5']);
    assertOk(r);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['o.png', 'o.png.state', 'o_0005.png']);
    const snap = await decode(path.join(dir, 'o_0005.png'));
    assert.deepEqual([snap.width, snap.height, snap.channels], [32, longSide(CHELSEA_W, CHELSEA_H, 32).height, 3]);
    const fin = await decode(out);
    assert.ok(!snap.data.equals(fin.data), 'the preview at 5 is not the final image');
  });

  test('STYLELOOM_WEIGHTS instead of --weights', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'env.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--size', '32', '--iters', '2', '--threads', '1', '--json', '--out', out], {
      env: { STYLELOOM_WEIGHTS: VGG_PARTIAL },
    });
    assertOk(r);
    parseSummary(r);
    assert.ok(fs.existsSync(out));
  });

  test('without a terminal, a progress line every --print-every iterations on stderr', async () => {
    const out = path.join(tempDir('styleloom-cli-'), 'p.png');
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '32', '--iters', '6', '--threads', '1', '--print-every', '2', '--out', out]);
    assertOk(r);
    assert.equal(r.stdout, '', 'without --json nothing goes to stdout');
    const lines = nonEmptyLines(r.stderr);
    const iters = lines.filter((l) => l.startsWith('iter ')).map((l) => l.match(/^iter (\d+)\/6\b/)?.[1]);
    assert.deepEqual(iters, ['2', '4', '6'], showRun(r));
    for (const l of lines.filter((x) => x.startsWith('iter '))) assert.match(l, /loss .*content .*style .*tv /);
    assert.ok(!/\x1b\[/.test(r.stderr), 'no terminal escapes when stderr is not a TTY');
    assert.match(lines[lines.length - 1], /^wrote .*p\.png \(32x21\)/);
  });
});

test('--help lists every flag with its default', async () => {
  const r = await runCli(['--help']);
  assertOk(r);
  // one block per option: its first line starts with "  -", continuation lines are indented
  const blocks = new Map<string, string>();
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^ {2}(?:-\w, )?(--[\w-]+)/);
    if (m) {
      current = m[1];
      blocks.set(current, line.trim());
    } else if (current && /^ {4,}\S/.test(line)) blocks.set(current, `${blocks.get(current)} ${line.trim()}`);
    else current = undefined;
  }
  const withDefault = [
    '--out', '--style-blend-weights', '--size', '--iters', '--optimizer', '--lr', '--content-weight', '--style-weight',
    '--tv-weight', '--content-layers', '--style-layers', '--pool', '--init', '--seed', '--weights', '--threads', '--device',
    '--print-every', '--save-every',
  ];
  for (const flag of ['--content', '--style', '--json', '--help', '--version', ...withDefault]) {
    assert.ok(blocks.has(flag), `--help should list ${flag}\n${r.stdout}`);
  }
  for (const flag of withDefault) assert.match(blocks.get(flag)!, /default/, `${flag} should show its default`);
  const expectDefault: [string, RegExp][] = [
    ['--size', /\(default: 512\)/],
    ['--iters', /\(default: 300\)/],
    ['--optimizer', /default: "lbfgs"/],
    ['--lr', /\(default: 10\)/],
    ['--style-weight', /\(default: 1000\)/],
    ['--content-weight', /\(default: 1\)/],
    ['--tv-weight', /\(default: 1\)/],
    ['--pool', /default: "max"/],
    ['--init', /default: "content"/],
    ['--device', /default: "cpu"/],
    ['--seed', /\(default: 0\)/],
    ['--save-every', /\(default: 0\)/],
  ];
  for (const [flag, re] of expectDefault) assert.match(blocks.get(flag)!, re, flag);
});
