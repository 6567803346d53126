// onnxruntime-web sessions behind the runtime interface: WebAssembly (SIMD; threads when the page is
// cross-origin isolated, so that SharedArrayBuffer exists) or WebGPU where navigator.gpu has an adapter.
import * as ort from 'onnxruntime-web';
import { StyleloomError } from '../errors.js';
import type { Runner, Runtime, SessionOptions } from './types.js';

export const WEB_BACKENDS = ['auto', 'wasm', 'webgpu'] as const;
export type WebBackend = (typeof WEB_BACKENDS)[number];

export interface WebRuntimeOptions {
  /** 'auto' (default): WebGPU where the browser has an adapter, else WebAssembly. */
  backend?: WebBackend;
  /** WebAssembly threads (default: up to 4 cores when cross-origin isolated, else 1). */
  threads?: number;
  /** Where onnxruntime-web's .wasm/.mjs files are (a URL ending in /; default: beside the bundle). */
  wasmPaths?: string;
  /** WebAssembly: 3x3 convolutions from 64 channels as Winograd F(4x4, 3x3) (default true; see WASM_LOWERING). */
  winograd?: boolean;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number } } | null> };
}

/** What the browser offers: isolation (threads), cores, WebGPU. */
export function webCapabilities(): { crossOriginIsolated: boolean; cores: number; webgpu: boolean } {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } & GpuNavigator };
  return { crossOriginIsolated: g.crossOriginIsolated === true, cores: g.navigator?.hardwareConcurrency ?? 1, webgpu: !!g.navigator?.gpu };
}

/** Limits of the WebGPU adapter, or null when there is none (no navigator.gpu, or no adapter). */
export async function webgpuLimits(): Promise<{ maxBufferSize: number; maxStorageBufferBindingSize: number } | null> {
  const gpu = (globalThis as { navigator?: GpuNavigator }).navigator?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return null;
  return { maxBufferSize: adapter.limits?.maxBufferSize ?? 256 * 2 ** 20, maxStorageBufferBindingSize: adapter.limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20 };
}

/** The backend `auto` becomes here; 'webgpu' without an adapter is an E_DEVICE error. */
export async function pickBackend(backend: WebBackend = 'auto'): Promise<'wasm' | 'webgpu'> {
  if (!(WEB_BACKENDS as readonly string[]).includes(backend)) {
    throw new StyleloomError('E_USAGE', `backend must be one of ${WEB_BACKENDS.join(', ')}, got ${JSON.stringify(backend)}`);
  }
  if (backend === 'wasm') return 'wasm';
  const limits = await webgpuLimits();
  if (limits) return 'webgpu';
  if (backend === 'auto') return 'wasm';
  const why = webCapabilities().webgpu ? 'navigator.gpu gave no adapter' : 'this browser has no navigator.gpu';
  throw new StyleloomError('E_DEVICE', `WebGPU is not available (${why}); use backend 'wasm' (or 'auto'), or a browser with WebGPU enabled`);
}

/** The directory of this module (onnxruntime-web's files are copied beside the bundle). */
function hereDir(): string {
  return new URL(/* @vite-ignore */ './', import.meta.url).href;
}

/**
 * WebAssembly's convolution kernels are 4-7x slower than onnxruntime-node's, its MatMul and data movement
 * less so: Winograd convolutions measure faster there from 64 channels (bench/RESULTS-browser.md).
 */
const WASM_LOWERING = { winograd: { minChannels: 64, tile: 4 as const, gather: 'conv' as const, scatter: 'convT' as const } };

let configured: { threads: number; wasmPaths: string } | null = null;

/** onnxruntime-web's global flags, set once before its first session (it reads them when it starts). */
function configure(o: WebRuntimeOptions): number {
  const caps = webCapabilities();
  const threads = caps.crossOriginIsolated ? Math.max(1, Math.min(o.threads ?? Math.min(4, caps.cores), caps.cores)) : 1;
  const wasmPaths = o.wasmPaths ?? hereDir();
  if (!configured) {
    ort.env.logLevel = 'fatal';
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = wasmPaths;
    configured = { threads, wasmPaths };
  }
  return configured.threads;
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 300);
}

/**
 * A runtime on onnxruntime-web. The backend is chosen (and checked) here; the thread count and the
 * files' location take effect for the first runtime of the page (onnxruntime-web starts once).
 */
export async function createWebRuntime(o: WebRuntimeOptions = {}): Promise<Runtime & { backend: 'wasm' | 'webgpu'; threads: number }> {
  const backend = await pickBackend(o.backend);
  const threads = configure(o);
  const providers = backend === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
  return {
    name: backend,
    backend,
    threads,
    // onnxruntime-web's WebGPU MaxPool has no indices output (a run fetching them fails inside OrtRun)
    lowering: backend === 'webgpu' ? { maxPoolIndices: false } : o.winograd === false ? {} : WASM_LOWERING,
    async createRunner(model: Uint8Array, _opts?: SessionOptions): Promise<Runner> {
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: providers,
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          enableMemPattern: false,
        });
      } catch (e) {
        const msg = firstLine((e as Error)?.message ?? String(e));
        if (/memory|allocat|RangeError/i.test(msg)) {
          throw new StyleloomError('E_INPUT', `the browser ran out of memory building the session (${msg}); use a smaller size`);
        }
        throw new StyleloomError(backend === 'webgpu' ? 'E_DEVICE' : 'E_INTERNAL', `onnxruntime-web (${backend}) could not load the generated model: ${msg}`);
      }
      return {
        async run(feeds, outputs) {
          const ortFeeds: Record<string, ort.Tensor> = {};
          for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, v.dims);
          const res = outputs ? await session.run(ortFeeds, outputs) : await session.run(ortFeeds);
          const out: Record<string, Float32Array> = {};
          for (const [k, t] of Object.entries(res)) {
            out[k] = (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
          }
          return out;
        },
        release: () => session.release(),
      };
    },
  };
}
