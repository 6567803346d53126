// Test helper: runs the real `styleloom` binary (bin/styleloom.js -> dist/) in a child process with a
// hermetic environment, and checks the CLI's error contract (one `styleloom: ` line, exit status, no output).
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ASSETS, ROOT } from './fixtures.js';

export const BIN = path.join(ROOT, 'bin', 'styleloom.js');
export const IMAGES = path.join(ASSETS, 'images');
export const CHELSEA = path.join(IMAGES, 'chelsea.png'); // 451 x 300
export const STARRY = path.join(IMAGES, 'starry_night.jpg'); // 1024 x 640
export const GREAT_WAVE = path.join(IMAGES, 'great_wave.jpg');
export const COFFEE = path.join(IMAGES, 'coffee.png');

export interface CliResult {
  /** Exit status (null if killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Variables to set (a value of undefined removes the variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

const tempDirs: string[] = [];

/** A fresh temp directory, removed when the process exits. */
export function tempDir(prefix = 'styleloom-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

process.on('exit', () => {
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
});

let emptyCache: string | undefined;

/**
 * The environment the CLI runs in: the test's own, minus STYLELOOM_WEIGHTS, with STYLELOOM_CACHE at an
 * empty directory (so no weights are found unless a test names them), plus `extra`.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  emptyCache ??= tempDir('styleloom-cache-');
  const env: NodeJS.ProcessEnv = { ...process.env, STYLELOOM_CACHE: emptyCache };
  delete env.STYLELOOM_WEIGHTS;
  delete env.NODE_OPTIONS;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `node bin/styleloom.js ...args` with stdin closed; never rejects on a non-zero exit. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: cliEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** The non-empty lines of a stream's text. */
export function nonEmptyLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** What a run printed, for assertion messages. */
export function showRun(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/**
 * The error contract: non-zero exit (`code` if given), stderr exactly one non-empty line starting with
 * `styleloom: ` (no stack trace, no internal error), nothing on stdout, and each of `match` in that line.
 * Returns the line.
 */
export function assertOneLineError(r: CliResult, expect: { code?: number; match?: (RegExp | string)[] } = {}): string {
  assert.equal(r.signal, null, `killed by a signal\n${showRun(r)}`);
  assert.notEqual(r.code, 0, `expected a failure\n${showRun(r)}`);
  if (expect.code !== undefined) assert.equal(r.code, expect.code, `exit status\n${showRun(r)}`);
  const lines = nonEmptyLines(r.stderr);
  assert.equal(lines.length, 1, `stderr must be exactly one non-empty line\n${showRun(r)}`);
  const line = lines[0];
  assert.ok(line.startsWith('styleloom: '), `stderr must start with "styleloom: "\n${showRun(r)}`);
  assert.ok(!/internal error|\n\s+at /i.test(r.stderr), `not an internal error\n${showRun(r)}`);
  assert.equal(r.stdout, '', `nothing on stdout\n${showRun(r)}`);
  for (const m of expect.match ?? []) {
    if (typeof m === 'string') assert.ok(line.includes(m), `stderr should contain ${JSON.stringify(m)}\n${showRun(r)}`);
    else assert.match(line, m, `stderr\n${showRun(r)}`);
  }
  return line;
}

/** The output file does not exist and its directory holds nothing (no partial file, no `.*.tmp`). */
export function assertNoOutput(out: string): void {
  assert.ok(!fs.existsSync(out), `${out} must not exist`);
  const dir = path.dirname(out);
  if (fs.existsSync(dir)) {
    const left = fs.readdirSync(dir);
    assert.deepEqual(left, [], `the output directory must stay empty, has ${left.join(', ')}`);
  }
}

/** Python's round() for the non-negative values of image sizes (round half to even). */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Output dimensions of an image `w` x `h` resized so that its long side is `size` (aspect kept). */
export function longSide(w: number, h: number, size: number): { width: number; height: number } {
  const s = size / Math.max(w, h);
  return { width: pyRound(w * s), height: pyRound(h * s) };
}
