// The main side of the optical-flow thread (flow-worker.ts): frames are handed over as they are read, pairs
// are computed there in order, and each answer (the backward flow and its consistency mask) comes back as a promise.
import { Worker } from 'node:worker_threads';
import { StyleloomError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { luma, type Flow } from './flow.js';

/** Messages to the flow thread. */
export type FlowRequest =
  | { type: 'frame'; id: number; luma: Uint8Array; width: number; height: number }
  | { type: 'pair'; req: number; prev: number; cur: number }
  | { type: 'drop'; id: number };

/** Messages from it: 'ready' once OpenCV.js has loaded, 'failed' if it did not, and one 'pair' per pair request. */
export type FlowReply =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'pair'; req: number; back?: Float32Array; mask?: Float32Array; ms?: number; error?: string };

/** The flows between two frames: `back` from the current frame to the earlier one, its consistency mask, and the thread's time for both flows and the mask. */
export interface PairFlows {
  back: Flow;
  mask: Float32Array;
  ms: number;
}

export interface FlowService {
  /** Hands frame `id` to the flow thread (its luma; held there until `drop`). */
  add(id: number, frame: RgbImage): void;
  has(id: number): boolean;
  /** The flows from frame `cur` back to frame `prev` (both added), computed on the flow thread. */
  pair(prev: number, cur: number): Promise<PairFlows>;
  /** Forgets every frame below `id`. */
  dropBelow(id: number): void;
  close(): Promise<void>;
}

/** Starts the flow thread and waits until OpenCV.js has loaded in it (about 0.2 s); `scale` < 1 computes the flows on frames scaled by it ({flowScale}). */
export async function startFlowService(scale = 1): Promise<FlowService> {
  const worker = new Worker(new URL('./flow-worker.js', import.meta.url), { workerData: { scale } });
  const pending = new Map<number, { resolve: (p: PairFlows) => void; reject: (e: Error) => void; width: number; height: number }>();
  const sizes = new Map<number, { width: number; height: number }>();
  let failure: Error | undefined;
  let nextReq = 0;
  const fail = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FlowReply) => {
      if (m.type === 'ready') return resolve();
      if (m.type === 'failed') return reject(new StyleloomError('E_INTERNAL', m.error));
      const p = pending.get(m.req);
      if (!p) return;
      pending.delete(m.req);
      if (m.error !== undefined) p.reject(new StyleloomError('E_INTERNAL', `optical flow failed: ${m.error}`));
      else p.resolve({ back: { data: m.back!, width: p.width, height: p.height }, mask: m.mask!, ms: m.ms! });
    });
    worker.on('error', (e) => {
      const err = new StyleloomError('E_INTERNAL', `the optical-flow thread failed: ${e.message}`);
      reject(err);
      fail(err);
    });
    worker.on('exit', (code) => fail(new StyleloomError('E_INTERNAL', `the optical-flow thread exited (code ${code})`)));
  });
  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const post = (m: FlowRequest, transfer?: ArrayBuffer[]) => worker.postMessage(m, transfer);
  return {
    add(id, frame) {
      const y = luma(frame);
      sizes.set(id, { width: frame.width, height: frame.height });
      post({ type: 'frame', id, luma: y, width: frame.width, height: frame.height }, [y.buffer as ArrayBuffer]);
    },
    has: (id) => sizes.has(id),
    pair(prev, cur) {
      if (failure) return Promise.reject(failure);
      const size = sizes.get(cur);
      if (!size || !sizes.has(prev)) return Promise.reject(new StyleloomError('E_INTERNAL', `flow: frame ${size ? prev : cur} was not added`));
      const req = nextReq++;
      return new Promise<PairFlows>((resolve, reject) => {
        pending.set(req, { resolve, reject, ...size });
        post({ type: 'pair', req, prev, cur });
      });
    },
    dropBelow(id) {
      for (const k of [...sizes.keys()]) {
        if (k >= id) continue;
        sizes.delete(k);
        post({ type: 'drop', id: k });
      }
    },
    async close() {
      worker.removeAllListeners('exit');
      fail(new StyleloomError('E_INTERNAL', 'the optical-flow thread was closed'));
      await worker.terminate();
    },
  };
}
