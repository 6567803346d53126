// Resumable runs: a run stopped (end of a shorter run, a --save-every save, an AbortSignal) and resumed
// from its serialised state equals the uninterrupted run bit for bit (image bytes and loss history),
// with Adam, L-BFGS, and across scales with --ema; bad state files are one-line E_INPUT errors; the
// CLI writes <out>.state with --save-every, continues with --resume, and saves the state on Ctrl-C.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  parseState,
  readStateFile,
  resumeOptions,
  serializeState,
  StyleloomError,
  stylize,
  type ResumeState,
  type StylizeOptions,
  type StylizeResult,
} from '../src/index.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { assertOneLineError, BIN, cliEnv, runCli, showRun, tempDir } from './helpers/cli.js';

const CHELSEA = path.join(ASSETS, 'images', 'chelsea.png');
const STARRY = path.join(ASSETS, 'images', 'starry_night.jpg');

/** 32 px (32 x 21), partial weights, one thread. */
function small(extra: Partial<StylizeOptions> = {}): StylizeOptions {
  return { content: CHELSEA, styles: [STARRY], weights: VGG_PARTIAL, size: 32, threads: 1, ...extra };
}

function assertSameRun(a: StylizeResult, b: StylizeResult): void {
  assert.equal(a.image.width, b.image.width);
  assert.equal(a.image.height, b.image.height);
  assert.ok(Buffer.from(a.image.data).equals(Buffer.from(b.image.data)), 'final image bytes are identical');
  assert.deepEqual(b.lossHistory, a.lossHistory, 'loss history is identical');
  assert.deepEqual(b.loss, a.loss, 'final loss is identical');
}

/** Runs `options`, keeping the serialised bytes of the first state onState is given for `reason` (and iteration). */
async function runKeepingState(options: StylizeOptions, want: { reason: string; iter?: number }, hooks: { signal?: AbortSignal; onProgress?: (e: { iter: number }) => void } = {}) {
  let bytes: Buffer | undefined;
  const run = stylize(options, {
    ...hooks,
    onState: (s) => {
      if (!bytes && s.reason === want.reason && (want.iter === undefined || s.iter === want.iter)) bytes = serializeState(s);
    },
  });
  return { run, state: () => bytes };
}

const isCode = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof StyleloomError, `expected a StyleloomError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  if (re) assert.match(e.message, re);
  return true;
};

let adamFull: Promise<StylizeResult> | undefined;
const adam6 = () => (adamFull ??= stylize(small({ optimizer: 'adam', iters: 6 })));

describe('resume', { concurrency: 1 }, () => {
  test('Adam: 3 iterations + state + resume for 3 more equals 6 iterations bit for bit', async () => {
    const { run, state } = await runKeepingState(small({ optimizer: 'adam', iters: 3 }), { reason: 'end' });
    await run;
    const s = parseState(state()!, 'adam.state');
    assert.equal(s.iter, 3);
    assert.equal(s.optimizer.kind, 'adam');
    const resumed = await stylize(resumeOptions(s, { iters: 6 }));
    assertSameRun(await adam6(), resumed);
  });

  test('L-BFGS: resuming the state saved at iteration 3 (--save-every 3) equals the 6-iteration run', async () => {
    const { run, state } = await runKeepingState(small({ optimizer: 'lbfgs', iters: 6, saveEvery: 3 }), { reason: 'save', iter: 3 });
    const full = await run;
    const s = parseState(state()!, 'lbfgs.state');
    assert.equal(s.optimizer.kind, 'lbfgs');
    assert.ok(s.optimizer.kind === 'lbfgs' && s.optimizer.dirs.length >= 1, 'curvature pairs are saved');
    assertSameRun(full, await stylize(resumeOptions(s)));
  });

  test('L-BFGS with the strong-Wolfe line search: a state saved inside a line search resumes to the uninterrupted run', async () => {
    const o = small({ optimizer: 'lbfgs', lineSearch: 'strong-wolfe', iters: 8, saveEvery: 1 });
    const states: Buffer[] = [];
    const full = await stylize(o, { onState: (st) => void (st.reason === 'save' && states.push(serializeState(st))) });
    // the first step is 1/|g|_1 long, so the search extrapolates: the first saves fall inside it
    const inSearch = states.map((b) => parseState(b, 'ls.state')).filter((st) => st.optimizer.kind === 'lbfgs' && st.optimizer.search);
    assert.ok(inSearch.length >= 2, `${inSearch.length} saves inside a line search`);
    const mid = inSearch[inSearch.length - 1];
    assert.equal(mid.options.lineSearch, 'strong-wolfe');
    assertSameRun(full, await stylize(resumeOptions(mid)));
    // and the line search only accepts points that satisfy the sufficient-decrease (Armijo) condition: its loss
    // never rises from one iterate to the next, where the fixed step may overshoot (it did, twice, in the 8
    // iterations of this run on an AMD EPYC, though it ended lower there: which ends lower after 8 steps is not fixed)
    for (let k = 1; k < full.lossHistory.length; k++) assert.ok(full.lossHistory[k] <= full.lossHistory[k - 1], `the loss rose at iteration ${k}: ${full.lossHistory.join(', ')}`);
    assert.ok(full.loss.total < 0.9 * full.lossHistory[0], `strong-wolfe went from ${full.lossHistory[0]} to ${full.loss.total}`);
  });

  test('an AbortSignal at iteration 3 hands over a state that resumes to the uninterrupted result', async () => {
    const ac = new AbortController();
    const { run, state } = await runKeepingState(small({ optimizer: 'adam', iters: 6 }), { reason: 'abort' }, { signal: ac.signal, onProgress: (e) => e.iter === 3 && ac.abort() });
    await assert.rejects(run, isCode('E_ABORTED'));
    const s = parseState(state()!, 'abort.state');
    assert.equal(s.reason, 'abort');
    assert.equal(s.iter, 3);
    assertSameRun(await adam6(), await stylize(resumeOptions(s)));
  });

  test('two scales with --ema: resuming at the end of the first scale equals the whole run', async () => {
    const o = small({ optimizer: 'adam', scales: 2, minSize: 24, iters: 2, saveEvery: 2, ema: 0.5 });
    const { run, state } = await runKeepingState(o, { reason: 'save', iter: 2 });
    const full = await run;
    const s = parseState(state()!, 'scales.state');
    assert.deepEqual([s.scale, s.scaleIter, s.width, s.height], [0, 2, 24, 16]);
    assert.ok(s.ema, 'the iterate average is saved');
    assertSameRun(full, await stylize(resumeOptions(s)));
  });

  test('L-BFGS over two scales: the state at the end of the first keeps its best iterate, and the resumed run hands over the same one', async () => {
    // Equal sizes, 5 + 3 iterations: the first scale's last update overshoots, so its best iterate was
    // evaluated before the save at iteration 5 and only the state can carry it to the resumed run.
    const o = small({ optimizer: 'lbfgs', scales: 2, minSize: 32, scaleIters: [5, 3], saveEvery: 5 });
    const { run, state } = await runKeepingState(o, { reason: 'save', iter: 5 });
    const full = await run;
    const s = parseState(state()!, 'best.state');
    assert.deepEqual([s.scale, s.scaleIter], [0, 5]);
    assert.equal(s.best?.loss.total, Math.min(...s.lossHistory), 'the state holds the best iterate evaluated so far');
    assert.equal(s.best?.x.length, s.x.length);
    assertSameRun(full, await stylize(resumeOptions(s)));
  });

  test('options that cannot continue a state are one-line E_USAGE errors', async () => {
    const { run, state } = await runKeepingState(small({ optimizer: 'adam', iters: 3 }), { reason: 'end' });
    await run;
    const s = parseState(state()!, 's');
    await assert.rejects(stylize(resumeOptions(s, { iters: 2 })), isCode('E_USAGE', /has done 3 iterations; --iters must be at least that/));
    await assert.rejects(stylize(resumeOptions(s, { optimizer: 'lbfgs' })), isCode('E_USAGE', /--optimizer adam/));
    await assert.rejects(stylize(resumeOptions(s, { size: 40 })), isCode('E_USAGE', /scales are 32 px/));
  });

  test('an input file changed since the state was saved is refused with one line naming it (E_INPUT)', async () => {
    const dir = tempDir();
    const content = path.join(dir, 'content.png');
    const style = path.join(dir, 'style.jpg');
    const init = path.join(dir, 'init.png');
    fs.copyFileSync(CHELSEA, content);
    fs.copyFileSync(STARRY, style);
    await sharp(CHELSEA).blur(3).png().toFile(init);
    const { run, state } = await runKeepingState(small({ content, styles: [style], init, optimizer: 'adam', iters: 2 }), { reason: 'end' });
    await run;
    const s = parseState(state()!, 's');
    // same size, other pixels (the content's size is checked on resume already)
    await sharp(CHELSEA).negate({ alpha: false }).png().toFile(content);
    await assert.rejects(stylize(resumeOptions(s, { iters: 3 })), isCode('E_INPUT', /content image .*content\.png changed since the state was saved.*restore it or start a new run without --resume/));
    fs.copyFileSync(CHELSEA, content);
    await sharp(STARRY).flop().jpeg().toFile(style);
    await assert.rejects(stylize(resumeOptions(s, { iters: 3 })), isCode('E_INPUT', /style image 1 .*style\.jpg changed since the state was saved/));
    fs.copyFileSync(STARRY, style);
    await sharp(CHELSEA).blur(5).png().toFile(init);
    await assert.rejects(stylize(resumeOptions(s, { iters: 3 })), isCode('E_INPUT', /init image .*init\.png changed since the state was saved/));
    await sharp(CHELSEA).blur(3).png().toFile(init);
    const resumed = await stylize(resumeOptions(s, { iters: 3 }));
    assert.equal(resumed.lossHistory.length, 3, 'the restored files resume');
  });
});

describe('state files', () => {
  let good: Promise<Buffer> | undefined;
  const goodBytes = () =>
    (good ??= (async () => {
      const { run, state } = await runKeepingState(small({ optimizer: 'lbfgs', iters: 2 }), { reason: 'end' });
      await run;
      return state()!;
    })());

  /** The header JSON of a state, edited, with the preamble's length fixed. */
  function withHeader(bytes: Buffer, edit: (h: any) => void): Buffer {
    const hlen = bytes.readUInt32LE(20);
    const h = JSON.parse(bytes.toString('utf8', 24, 24 + hlen));
    edit(h);
    let json = Buffer.from(JSON.stringify(h));
    json = Buffer.concat([json, Buffer.alloc((8 - ((24 + json.length) % 8)) % 8, 0x20)]);
    const pre = Buffer.from(bytes.subarray(0, 24));
    pre.writeUInt32LE(json.length, 20);
    return Buffer.concat([pre, json, bytes.subarray(24 + hlen)]);
  }

  test('a state file round-trips: magic, version, header and arrays', async () => {
    const bytes = await goodBytes();
    assert.equal(bytes.toString('latin1', 0, 16), 'styleloom-state\n');
    assert.equal(bytes.readUInt32LE(16), 2);
    const dir = tempDir();
    const file = path.join(dir, 'out.png.state');
    fs.writeFileSync(file, bytes);
    const s: ResumeState = await readStateFile(file);
    assert.equal(s.iter, 2);
    assert.equal(s.lossHistory.length, 2);
    assert.equal(s.x.length, 3 * 32 * 21);
    assert.equal(s.options.content, CHELSEA);
    assert.equal(s.options.weights, VGG_PARTIAL);
    assert.match(s.inputs.content!, /^[0-9a-f]{64}$/);
    assert.equal(s.inputs.styles.length, 1);
    assert.ok(s.best && s.best.x.length === s.x.length && s.best.loss.total <= Math.min(...s.lossHistory), 'the best iterate is saved');
    assert.ok(serializeState(s).subarray(0, 24).equals(bytes.subarray(0, 24)));
  });

  test('corrupt, truncated and foreign files are one-line E_INPUT errors naming the file', async () => {
    const bytes = await goodBytes();
    const dir = tempDir();
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0x40;
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(99, 16);
    const v1 = Buffer.from(bytes);
    v1.writeUInt32LE(1, 16);
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /not a styleloom state file/],
      ['png', fs.readFileSync(CHELSEA), /not a styleloom state file/],
      ['version', newer, /version 99 is not supported/],
      ['v1', v1, /version 1 does not record the SHA-256 of the input files.*start a new run without --resume/],
      ['inputs', withHeader(bytes, (h) => (h.inputs.styles = [])), /inconsistent state \(input hashes\)/],
      ['cut-header', bytes.subarray(0, 40), /truncated/],
      ['cut-data', bytes.subarray(0, bytes.length - 100), /truncated \(\d+ of \d+ bytes\)/],
      ['extra', Buffer.concat([bytes, Buffer.alloc(8)]), /8 bytes more than its header declares/],
      ['flipped', flipped, /corrupt \(CRC-32 mismatch\)/],
      ['json', withHeader(bytes, () => undefined).fill(0x7b, 24, 30), /header is corrupt/],
      ['width', withHeader(bytes, (h) => (h.width = 31)), /inconsistent state \(image 31x21 at a scale of 32 px\)/],
      ['sizes', withHeader(bytes, (h) => (h.sizes = [32, 45])), /inconsistent state \(itersPerScale does not match sizes\)/],
      ['iter', withHeader(bytes, (h) => (h.iter = 5)), /inconsistent state \(iteration 5 with 2 losses\)/],
      ['array', withHeader(bytes, (h) => (h.arrays[0].length += 1)), /inconsistent state/],
    ];
    for (const [name, b, re] of cases) {
      const file = path.join(dir, `${name}.state`);
      fs.writeFileSync(file, b);
      await assert.rejects(readStateFile(file), isCode('E_INPUT', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*${re.source}`)), name);
    }
    await assert.rejects(readStateFile(path.join(dir, 'missing.state')), isCode('E_INPUT', /no such file/));
  });
});

describe('styleloom --resume', () => {
  const flags = ['--weights', VGG_PARTIAL, '--size', '32', '--threads', '1', '--optimizer', 'adam', '--print-every', '0'];

  test('--save-every 2 --iters 4, then --resume <state> --iters 6 gives the 6-iteration image', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out.png');
    const first = await runCli(['--content', CHELSEA, '--style', STARRY, ...flags, '--iters', '4', '--save-every', '2', '--out', out]);
    assert.equal(first.code, 0, showRun(first));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['out.png', 'out.png.state', 'out_0002.png']);
    const s4 = await readStateFile(`${out}.state`);
    assert.deepEqual([s4.reason, s4.iter], ['end', 4]);

    const out2 = path.join(dir, 'more.png');
    const second = await runCli(['--resume', `${out}.state`, '--iters', '6', '--out', out2, '--print-every', '0', '--json']);
    assert.equal(second.code, 0, showRun(second));
    assert.equal(JSON.parse(second.stdout).iters, 6);
    const s6 = await readStateFile(`${out2}.state`);
    assert.deepEqual([s6.reason, s6.iter], ['end', 6]);
    const pixels = await sharp(out2).raw().toBuffer();
    assert.ok(pixels.equals(Buffer.from((await adam6()).image.data)), 'resumed CLI output equals a 6-iteration run');
  });

  test('--resume refuses flags that change the run, and bad state files, with one line', async () => {
    const dir = tempDir();
    const bogus = path.join(dir, 'x.png.state');
    fs.writeFileSync(bogus, 'hello');
    assertOneLineError(await runCli(['--resume', bogus, '--size', '64']), { code: 2, match: ['--size cannot be changed when resuming'] });
    assertOneLineError(await runCli(['--resume', bogus]), { code: 1, match: ['not a styleloom state file'] });
  });

  test('--resume after the content file changed exits 1 with one line saying which file and what to do', async () => {
    const dir = tempDir();
    const content = path.join(dir, 'photo.png');
    fs.copyFileSync(CHELSEA, content);
    const out = path.join(dir, 'out.png');
    const first = await runCli(['--content', content, '--style', STARRY, ...flags, '--iters', '2', '--save-every', '2', '--out', out]);
    assert.equal(first.code, 0, showRun(first));
    await sharp(CHELSEA).negate({ alpha: false }).png().toFile(content);
    assertOneLineError(await runCli(['--resume', `${out}.state`, '--iters', '3', '--print-every', '0']), {
      code: 1,
      match: ['cannot resume', 'photo.png changed since the state was saved', 'restore it or start a new run without --resume'],
    });
  });

  test('Ctrl-C with --save-every writes the state and says how to resume (exit 130)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out.png');
    const state = `${out}.state`;
    const child = spawn(process.execPath, [BIN, '--content', CHELSEA, '--style', STARRY, ...flags, '--iters', '100000', '--save-every', '1', '--out', out], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const t0 = Date.now();
    while (!fs.existsSync(state) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /state saved to .*out\.png\.state: continue with styleloom --resume/);
    const s = await readStateFile(state);
    assert.equal(s.reason, 'abort');
    assert.ok(s.iter >= 1 && s.iter === s.lossHistory.length);
  });
});
