#!/usr/bin/env node
// styleloom in the browser against styleloom in node, in the same run: ms per iteration of the Gatys
// loop (Adam, default layers) at one size in Debian's headless chromium on onnxruntime-web's WebAssembly,
// one thread (page not cross-origin isolated) and several (COOP/COEP), and WebGPU where the browser has
// an adapter, against onnxruntime-node with the same thread count. Not part of `npm test`.
//
//   npm run build && node bench/browser.mjs --size 256 --iters 20 --threads 2 [--gpu-iters 2] [--gpu]
//
// WebGPU on SwiftShader emulates a GPU on the CPU and is slow (minutes per iteration at 256 px): its row runs
// --gpu-iters iterations (default 2; 0 leaves it out).
// Needs dist/ (npm ci or npm test built it) and /usr/bin/chromium. Prints a markdown table on stdout.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, '..', 'dist');
const { startStaticServer } = await import(path.join(DIST, 'test', 'helpers', 'static-server.js'));
const { launchChromium, BLANK_HTML, BROWSER_DIST } = await import(path.join(DIST, 'test', 'helpers', 'browser.js'));
const { VGG_PARTIAL } = await import(path.join(DIST, 'test', 'helpers', 'fixtures.js'));
const { stylize } = await import(path.join(DIST, 'src', 'index.js'));
const { readImage, resizeLongSide } = await import(path.join(DIST, 'src', 'image', 'io.js'));

const argv = process.argv.slice(2);
const opt = (k, d) => {
  const i = argv.indexOf(k);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const SIZE = opt('--size', 256);
const ITERS = opt('--iters', 20);
const THREADS = opt('--threads', 2);
const GPU_ITERS = opt('--gpu-iters', argv.includes('--gpu') ? ITERS : 2);
const IMAGES = path.resolve(HERE, '..', '..', 'shared', 'assets', 'images');

const content = await resizeLongSide(await readImage(path.join(IMAGES, 'chelsea.png')), SIZE);
const style = await resizeLongSide(await readImage(path.join(IMAGES, 'starry_night.jpg')), SIZE);
const common = { size: SIZE, iters: ITERS, optimizer: 'adam' };

const rows = [];
const node = await stylize({ ...common, content, styles: [style], weights: VGG_PARTIAL, threads: THREADS });
rows.push({ what: `node (onnxruntime-node, ${THREADS} threads)`, ms: node.msPerIter, total: node.loss.total, iters: ITERS });
console.error(rows[0]);

const mounts = { '/blank.html': { bytes: BLANK_HTML, type: 'text/html' }, '/favicon.ico': { bytes: new Uint8Array(0) }, '/browser': BROWSER_DIST, '/weights/vgg.safetensors': VGG_PARTIAL };
const browser = await launchChromium();
// WebGPU in a second browser on SwiftShader (CPU Vulkan): where no GPU is lent that is the only adapter, and
// its figure measures the emulation, not a GPU; on a machine with a GPU pass --gpu to use it instead.
const gpuBrowser = await launchChromium({ webgpu: argv.includes('--gpu') ? 'gpu' : true });
try {
  const runs = [
    ['chromium, WebAssembly, 1 thread', false, 'wasm', browser, ITERS],
    [`chromium, WebAssembly, ${THREADS} threads`, true, 'wasm', browser, ITERS],
    ['chromium, WebAssembly, 1 thread, direct convolutions (no Winograd)', false, 'wasm', browser, ITERS, false],
    [`chromium, WebAssembly, ${THREADS} threads, direct convolutions (no Winograd)`, true, 'wasm', browser, ITERS, false],
    [argv.includes('--gpu') ? 'chromium, WebGPU' : 'chromium, WebGPU on SwiftShader (CPU emulation)', true, 'webgpu', gpuBrowser, GPU_ITERS],
  ].filter((r) => r[4] > 0);
  for (const [label, isolate, backend, b, iters, winograd] of runs) {
    const srv = await startStaticServer(mounts, { isolate });
    const page = await (await b.newContext()).newPage();
    await page.goto(`${srv.url}/blank.html`);
    const r = await page.evaluate(
      async ([o, c, s]) => {
        const sl = await import('/browser/styleloom.js');
        const px = (p) => ({ data: new Uint8Array(p.data), width: p.width, height: p.height });
        try {
          const res = await sl.stylize({ ...o, content: px(c), styles: [px(s)], weights: '/weights/vgg.safetensors' });
          return { ms: res.msPerIter, total: res.loss.total, threads: res.threads };
        } catch (e) {
          return { error: e.message };
        }
      },
      [{ ...common, iters, backend, winograd, threads: THREADS }, { ...content, data: Array.from(content.data) }, { ...style, data: Array.from(style.data) }],
    );
    rows.push({ what: label, iters, ...r });
    console.error(rows.at(-1));
    await page.context().close();
    await srv.close();
  }
} finally {
  await browser.close();
  await gpuBrowser.close();
}

console.log(`| ${content.width}x${content.height}, Adam | iterations | ms/iter | x node | final total loss |`);
console.log('|---|---|---|---|---|');
for (const r of rows) {
  if (r.error) console.log(`| ${r.what} | ${r.iters} | — | — | ${r.error} |`);
  else console.log(`| ${r.what} | ${r.iters} | ${r.ms.toFixed(0)} | ${(r.ms / rows[0].ms).toFixed(2)} | ${r.total.toPrecision(7)} |`);
}
