// The headers that make a page cross-origin isolated (SharedArrayBuffer, hence WebAssembly threads for
// onnxruntime-web): sent by `styleloom serve` on every response, and by the Vite dev server's config.
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
});
