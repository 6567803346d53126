// The optical-flow thread: OpenCV.js and the frames' luma live here, so the flows (and their consistency masks)
// of a batch are computed while the main thread runs the network, writes frames and feeds ffmpeg.
import { parentPort, workerData } from 'node:worker_threads';
import { flowFrameOfLuma, flowPair, loadOpenCv, type FlowFrame } from './flow.js';
import type { FlowReply, FlowRequest } from './flow-service.js';
import { consistencyMask } from './warp.js';

const port = parentPort!;
const frames = new Map<number, FlowFrame>();
/** The flow scale ({flowScale}) the service started this thread with. */
const scale = (workerData as { scale?: number } | undefined)?.scale ?? 1;

async function handle(m: FlowRequest): Promise<FlowReply | null> {
  if (m.type === 'frame') {
    frames.set(m.id, await flowFrameOfLuma(m.luma, m.width, m.height, scale));
    return null;
  }
  if (m.type === 'drop') {
    frames.get(m.id)?.delete();
    frames.delete(m.id);
    return null;
  }
  const prev = frames.get(m.prev);
  const cur = frames.get(m.cur);
  if (!prev || !cur) return { type: 'pair', req: m.req, error: `flow: frame ${prev ? m.cur : m.prev} is not held` };
  const t = performance.now();
  const { back, fwd } = await flowPair(prev, cur);
  const { mask } = consistencyMask(back, fwd);
  return { type: 'pair', req: m.req, back: back.data, mask, ms: performance.now() - t };
}

// one message at a time, in order (a pair never runs before the frames it names have arrived)
let chain = Promise.resolve();
port.on('message', (m: FlowRequest) => {
  chain = chain.then(async () => {
    try {
      const reply = await handle(m);
      if (reply && 'back' in reply) port.postMessage(reply, [reply.back!.buffer as ArrayBuffer, reply.mask!.buffer as ArrayBuffer]);
      else if (reply) port.postMessage(reply);
    } catch (e) {
      if (m.type === 'pair') port.postMessage({ type: 'pair', req: m.req, error: (e as Error).message } satisfies FlowReply);
    }
  });
});

loadOpenCv().then(
  () => port.postMessage({ type: 'ready' } satisfies FlowReply),
  (e: Error) => port.postMessage({ type: 'failed', error: e.message } satisfies FlowReply),
);
