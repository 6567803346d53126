// The web page of `styleloom serve`: plain TypeScript + CSS, built into web/dist (served at /).
// `npm run build:web` builds it; `npx vite web` serves it with hot reload, the API proxied to a
// running `styleloom serve` on port 8080 (STYLELOOM_API to change). The browser bundle (dist/browser, built
// first by `prepare`) is copied to web/dist/browser/ for the page's on-this-device mode.
import { cpSync, existsSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const bundleDir = fileURLToPath(new URL('../dist/browser/', import.meta.url));

function copyBrowserBundle(): Plugin {
  return {
    name: 'styleloom-copy-browser-bundle',
    writeBundle() {
      if (!existsSync(`${bundleDir}styleloom.js`)) {
        this.warn('dist/browser/styleloom.js is not built (npm run build:browser): the page will have no on-this-device mode');
        return;
      }
      cpSync(bundleDir, fileURLToPath(new URL('./dist/browser/', import.meta.url)), { recursive: true });
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  plugins: [copyBrowserBundle()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  // cross-origin isolation (SharedArrayBuffer: WebAssembly threads in on-this-device mode), as `styleloom serve`
  server: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    proxy: { '/api': { target: process.env.STYLELOOM_API ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
  preview: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
});
