// The web page of `styleloom serve`: plain TypeScript + CSS, built into web/dist (served at /).
// `npm run build:web` builds it; `npx vite web` serves it with hot reload, the API proxied to a
// running `styleloom serve` on port 8080 (STYLELOOM_API to change).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
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
