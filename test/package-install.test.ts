// What a new user installs: `npm pack` the project, install the tarball into an empty folder from the npm
// cache that `npm ci` filled (offline, CUDA download skipped), and run the CLI, `fast` and `serve` from there.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ASSETS, ROOT } from './helpers/fixtures.js';
import { CHELSEA, cliEnv, tempDir } from './helpers/cli.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
  license: string;
};

interface LockEntry {
  dev?: boolean;
  [k: string]: unknown;
}

/**
 * A lockfile for a folder that depends only on the tarball: the tarball's entry plus every non-dev entry of
 * the project's own lockfile, so `npm ci --offline` installs exactly the versions `npm ci` cached.
 */
function userLockfile(tarball: string): object {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, object> = {
    '': { name: 'try-styleloom', dependencies: { [pkg.name]: `file:${tarball}` } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: `file:${tarball}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (where !== '' && !entry.dev) packages[where] = entry;
  }
  return { name: 'try-styleloom', lockfileVersion: 3, requires: true, packages };
}

describe('the npm package, installed into an empty folder', { timeout: 240_000 }, () => {
  let dir = '';
  let bin = '';
  const env = cliEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' });

  before(async () => {
    dir = tempDir('styleloom-install-');
    const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env, maxBuffer: 64 << 20 });
    const info = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
    const tarball = path.basename(info[0].filename);
    const files = new Set(info[0].files.map((f) => f.path));
    // the built page, the browser bundle and its WebAssembly once, no tests, no source maps
    assert.ok(files.has('web/dist/index.html'), 'the built web page is in the package');
    assert.ok(files.has('dist/browser/styleloom.js'), 'the browser bundle is in the package');
    assert.ok([...files].some((f) => f.startsWith('dist/browser/') && f.endsWith('.wasm')), "onnxruntime-web's WebAssembly is in the package");
    assert.ok(![...files].some((f) => f.startsWith('web/dist/browser/')), 'the bundle is not shipped twice');
    assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.endsWith('.map')), 'no tests, no source maps');
    for (const n of ['starry-night', 'great-wave', 'the-scream', 'shipwreck']) assert.ok(files.has(`models/${n}.safetensors`), `the built-in network ${n} is in the package`);
    assert.ok(info[0].size < 16e6, `package size ${info[0].size} bytes`);

    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'try-styleloom', private: true, dependencies: { [pkg.name]: `file:${tarball}` } }));
    fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(userLockfile(tarball)));
    await run(NPM, ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env, maxBuffer: 64 << 20 });
    bin = path.join(dir, 'node_modules', '.bin', 'styleloom');
    assert.ok(fs.existsSync(bin), 'npm linked the styleloom command');
  });

  test('the CLI answers --help', async () => {
    const { stdout } = await run(bin, ['--help'], { cwd: dir, env });
    assert.match(stdout, /Usage: styleloom/);
    assert.match(stdout, /\bfast\b/);
    assert.match(stdout, /\bserve\b/);
  });

  test('the library and the browser bundle resolve as package exports', async () => {
    const code = "const m = await import('styleloom'); console.log(typeof m.stylize, import.meta.resolve('styleloom/browser'))";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, env });
    const [kind, url] = stdout.trim().split(' ');
    assert.equal(kind, 'function');
    assert.ok(url.endsWith('/node_modules/styleloom/dist/browser/styleloom.js') && fs.existsSync(new URL(url)), url);
  });

  test('fast mode writes a styled image, with a built-in network by name', async () => {
    const out = path.join(dir, 'out.png');
    await run(bin, ['fast', '--model', 'starry-night', '--content', CHELSEA, '--size', '64', '--threads', '1', '--out', out], { cwd: dir, env: { ...env, STYLELOOM_FAST_MODELS: undefined } });
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [64, 43]);
    const c = await sharp(CHELSEA).resize(64, 43).removeAlpha().raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < c.length; i++) diff += Math.abs(c[i] - data[(i / 3 | 0) * info.channels + (i % 3)]);
    assert.ok(diff / c.length > 10, `the output differs from the photo (mean |diff| ${(diff / c.length).toFixed(1)})`);
  });

  test('serve gives the real page and the browser bundle', async () => {
    const child = spawn(bin, ['serve', '--port', '0', '--data-dir', path.join(dir, 'data'), '--threads', '1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (s: string) => {
          stderr += s;
          const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>styleloom · neural style transfer<\/title>/);
      const js = await fetch(`${url}/browser/styleloom.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type') ?? '', /javascript/);
      assert.match(await js.text(), /export\s*\{/);
      assert.equal(js.headers.get('cross-origin-embedder-policy'), 'require-corp', 'the bundle is served cross-origin isolated');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
