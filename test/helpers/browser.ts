// Headless chromium for the browser tests (Debian's /usr/bin/chromium driven by playwright-core,
// installed by scripts/install-chromium.sh when missing), and a page that has loaded the browser bundle.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './fixtures.js';

export const CHROMIUM = '/usr/bin/chromium';
export const BROWSER_DIST = path.join(ROOT, 'dist', 'browser');
export const BUNDLE = path.join(BROWSER_DIST, 'styleloom.js');

export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  const r = spawnSync('sh', [path.join(ROOT, 'scripts', 'install-chromium.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0 || !fs.existsSync(CHROMIUM)) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`the browser tests need chromium at ${CHROMIUM}; scripts/install-chromium.sh could not install it (exit ${r.status}). Install it by hand (sudo apt-get install chromium).\n${out}`);
  }
}

/** Builds dist/browser when it is missing (normally `prepare`/`pretest` did). */
export function ensureBundle(): void {
  if (fs.existsSync(BUNDLE)) return;
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '-c', path.join(ROOT, 'vite.browser.config.ts'), '--logLevel', 'warn'], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`vite build of the browser bundle failed:\n${r.stdout}${r.stderr}`);
}

/**
 * Headless chromium as the brief sets it up (`--disable-gpu`: no WebGPU adapter), or with `webgpu` a WebGPU
 * adapter on SwiftShader, chromium's CPU implementation of Vulkan (slow, but the same WebGPU API and shaders);
 * `webgpu: 'gpu'` lets chromium use the machine's GPU (benchmarks on a machine that has one).
 */
export async function launchChromium(o: { webgpu?: boolean | 'gpu' } = {}): Promise<Browser> {
  ensureChromium();
  const gpu = o.webgpu === 'gpu' ? ['--enable-unsafe-webgpu'] : o.webgpu ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : ['--disable-gpu'];
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', ...gpu, '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page at `base`/blank.html with errors recorded into `errors`. */
export async function openPage(browser: Browser, base: string, errors: string[]): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/blank.html`);
  return page;
}

export const BLANK_HTML = new TextEncoder().encode('<!doctype html><html><head><meta charset="utf-8"><title>styleloom test</title></head><body></body></html>');
