// Atomic writer: the file appears whole or not at all, replaces an existing one, and a failure
// leaves no temp file behind and surfaces as a one-line E_OUTPUT error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { outputErrorMessage, tempPathFor, writeFileAtomic } from '../src/util/atomic.js';
import { StyleloomError } from '../src/errors.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'styleloom-atomic-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function isOutputError(re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StyleloomError, `not a StyleloomError: ${String(e)}`);
    assert.equal(e.code, 'E_OUTPUT');
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'message is one line');
    return true;
  };
}

test('writes the bytes and leaves only the target', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'a.bin');
  const data = new Uint8Array([1, 2, 3, 250]);
  await writeFileAtomic(p, data);
  assert.deepEqual(new Uint8Array(readFileSync(p)), data);
  assert.deepEqual(readdirSync(d), ['a.bin']);
});

test('replaces an existing file, also with a Buffer and with empty data', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'a.txt');
  writeFileSync(p, 'old contents that are longer');
  await writeFileAtomic(p, Buffer.from('new'));
  assert.equal(readFileSync(p, 'utf8'), 'new');
  await writeFileAtomic(p, new Uint8Array(0));
  assert.equal(readFileSync(p).length, 0);
  assert.deepEqual(readdirSync(d), ['a.txt']);
});

test('a large write arrives intact', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'big.bin');
  const data = new Uint8Array(3 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  await writeFileAtomic(p, data);
  assert.ok(Buffer.from(data).equals(readFileSync(p)));
});

test('temp name: hidden, same directory, pid and random part', () => {
  const a = tempPathFor('/x/y/out.png');
  const b = tempPathFor('/x/y/out.png');
  assert.equal(dirname(a), '/x/y');
  assert.match(basename(a), new RegExp(`^\\.out\\.png\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  assert.notEqual(a, b);
});

test('missing directory: E_OUTPUT naming it, nothing created', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'nope', 'a.png');
  await assert.rejects(writeFileAtomic(p, Buffer.from('x')), isOutputError(/directory .*nope does not exist; create it first/));
  assert.deepEqual(readdirSync(d), []);
});

test('target is a directory: rename fails, temp file removed, directory untouched', async (t) => {
  const d = tempDir(t);
  const p = join(d, 'taken');
  mkdirSync(p);
  writeFileSync(join(p, 'inside'), 'keep');
  await assert.rejects(writeFileAtomic(p, Buffer.from('x')), isOutputError(/taken: /));
  assert.deepEqual(readdirSync(d), ['taken']);
  assert.equal(readFileSync(join(p, 'inside'), 'utf8'), 'keep');
});

test('read-only directory: permission denied (skipped as root)', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('root ignores directory permissions');
    return;
  }
  const d = tempDir(t);
  const ro = join(d, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  try {
    await assert.rejects(writeFileAtomic(join(ro, 'a.png'), Buffer.from('x')), isOutputError(/permission denied/));
    assert.deepEqual(readdirSync(ro), []);
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('error messages: disk full, permission denied, unknown errors stay one line', (t) => {
  // Filling a disk is not practical in a test, so check the errno -> message mapping directly.
  const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  assert.match(outputErrorMessage('out/a.png', err), /^out\/a\.png: no space left on the device; free some space/);
  const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  assert.match(outputErrorMessage('out/a.png', eacces), /^out\/a\.png: permission denied; /);
  const other = Object.assign(new Error('EIO: i/o error\nsecond line'), { code: 'EIO' });
  assert.ok(!outputErrorMessage('a.png', other).includes('\n'));
  t.diagnostic('ENOSPC/EACCES mapping checked without filling a disk');
});
