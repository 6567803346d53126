// The browser bundle's entry (built into dist/browser/styleloom.js, onnxruntime-web's files beside it):
// stylize() and fastStylize() with the node library's options, on WebAssembly or WebGPU.
export { stylize, type BrowserStylizeOptions, type BrowserStylizeHooks, type BrowserProgressEvent, type BrowserStylizeResult } from './stylize.js';
export { StyleloomError, isStyleloomError, type ErrorCode } from '../errors.js';
export { toImageData, type PixelSource, type RawPixels } from './pixels.js';
export { estimateMemory, checkMemory, WASM_HEAP_BYTES, type MemoryEstimate } from './memory.js';
export { webCapabilities, pickBackend, WEB_BACKENDS, type WebBackend } from '../runtime/web.js';
export { loadWeights, WEIGHTS_CACHE, type WeightsSource } from './weights.js';
export type { RgbImage } from '../image/types.js';
export type { LossTerms } from '../transfer/types.js';
export { fastStylize, loadFastModel, MODELS_CACHE, type BrowserFastOptions, type BrowserFastResult, type FastModelSource } from './fast.js';
