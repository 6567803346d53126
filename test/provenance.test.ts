// Provenance metadata: written into PNG and JPEG outputs, read back by `styleloom info`, off with --no-metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ASSETS, ROOT, VGG_PARTIAL } from './helpers/fixtures.js';
import { readImageMetadata } from '../src/image/metadata.js';

const CONTENT = path.join(ASSETS, 'images', 'chelsea.png');
const STYLE = path.join(ASSETS, 'images', 'starry_night.jpg');
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const run = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin', 'styleloom.js'), ...args], { encoding: 'utf8', env: { ...process.env, STYLELOOM_WEIGHTS: VGG_PARTIAL } });

for (const ext of ['png', 'jpg']) {
  test(`metadata round trip through a .${ext} output and styleloom info`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-prov-'));
    const out = path.join(dir, `o.${ext}`);
    const r = run(['--content', CONTENT, '--style', STYLE, '--size', '32', '--iters', '2', '--threads', '1', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const info = run(['info', out, '--json']);
    assert.equal(info.status, 0, info.stderr);
    const meta = JSON.parse(info.stdout.trim());
    assert.match(meta.Software, /^styleloom \d+\.\d+\.\d+$/);
    assert.match(meta.Description, /neural style transfer.*chelsea\.png.*starry_night\.jpg/);
    assert.equal(meta['styleloom:content-sha256'], sha(CONTENT));
    assert.equal(meta['styleloom:style-sha256'], sha(STYLE));
    const params = JSON.parse(meta['styleloom:parameters']);
    assert.equal(params.size, 32);
    assert.equal(params.iters, 2);
    assert.deepEqual(params.styleLayers, ['conv1_1', 'conv2_1', 'conv3_1']);
    assert.ok(Number.isFinite(params.finalLoss.total));
  });
}

test('--no-metadata writes an image without provenance', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-prov-'));
  const out = path.join(dir, 'o.png');
  const r = run(['--content', CONTENT, '--style', STYLE, '--size', '32', '--iters', '1', '--threads', '1', '--no-metadata', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await readImageMetadata(out), {});
  const info = run(['info', out]);
  assert.match(info.stdout, /no styleloom metadata/);
});
