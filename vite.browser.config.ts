// The browser bundle: a Vite library build of src/browser/index.ts into dist/browser/styleloom.js (ESM),
// with onnxruntime-web's WebAssembly files (.wasm and its .mjs loader) copied beside it. Run by `prepare`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(root, 'dist', 'browser');
const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
/** What onnxruntime-web's default build (WebAssembly + WebGPU) loads at run time. */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

function copyOrtFiles(): Plugin {
  return {
    name: 'styleloom-copy-ort-wasm',
    writeBundle() {
      mkdirSync(outDir, { recursive: true });
      for (const f of ORT_FILES) copyFileSync(path.join(ortDist, f), path.join(outDir, f));
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  plugins: [copyOrtFiles()],
  resolve: {
    // onnxruntime-web's build that loads its .wasm/.mjs from env.wasm.wasmPaths (not inlined in the bundle)
    conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'import', 'default'],
  },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    minify: true,
    lib: { entry: path.join(root, 'src', 'browser', 'index.ts'), formats: ['es'], fileName: () => 'styleloom.js' },
    rollupOptions: { output: { inlineDynamicImports: true } },
  },
  server: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  preview: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
});
