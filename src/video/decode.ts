// Video frames in: ffmpeg decodes the clip's first video stream (from --start, for --duration seconds,
// resampled to a constant frame rate) scaled to the working size, as RGB on a pipe, one frame at a time
// (the pipe's back-pressure holds ffmpeg while a frame is being stylised: never the whole clip in memory).
import { spawn } from 'node:child_process';
import { StyleloomError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { requireFfmpeg } from '../media/ffmpeg.js';

export interface DecodePlan {
  file: string;
  /** Seconds from the start of the clip. */
  start: number;
  /** Seconds to read from `start`; undefined: to the end. */
  duration?: number;
  /** Frame rate of the frames handed out (ffmpeg's fps filter duplicates or drops to keep time). */
  fps: number;
  /** The working size (even: H.264 in yuv420p needs it). */
  width: number;
  height: number;
}

/** What ffmpeg says when the data ends early or is damaged (its error lines at `-v error`). */
const DAMAGE = /partial file|invalid data|corrupt|error while decoding|truncat|end of file|no frame/i;

const checkAborted = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
};

/** The ffmpeg arguments of a plan (exported for the tests and the provenance record). */
export function decodeArgs(p: DecodePlan): string[] {
  const filters = [`fps=${p.fps}`, `scale=${p.width}:${p.height}:flags=area`];
  return [
    '-hide_banner', '-nostdin', '-v', 'error',
    ...(p.start > 0 ? ['-ss', String(p.start)] : []),
    '-i', p.file,
    ...(p.duration !== undefined ? ['-t', String(p.duration)] : []),
    '-map', '0:v:0', '-an', '-sn', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/**
 * The frames of the plan, in order. `what` names the clip in messages. Rejects with E_INPUT when ffmpeg
 * reports a truncated or damaged stream (after the frames it could decode).
 */
export async function* readFrames(p: DecodePlan, what: string, signal?: AbortSignal): AsyncGenerator<RgbImage> {
  const bin = requireFfmpeg(`${what}: reading video`, 'give frames as images to styleloom instead');
  checkAborted(signal);
  const child = spawn(bin, decodeArgs(p), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 8000) err += d.toString();
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const frameBytes = p.width * p.height * 3;
  let pending: Buffer[] = [];
  let have = 0;
  let yielded = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      have += chunk.length;
      while (have >= frameBytes) {
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        const data = new Uint8Array(frameBytes);
        data.set(all.subarray(0, frameBytes));
        const rest = all.subarray(frameBytes);
        pending = rest.length ? [rest] : [];
        have = rest.length;
        checkAborted(signal);
        yielded++;
        yield { data, width: p.width, height: p.height };
      }
    }
    const code = await closed;
    const line = err.split('\n').map((l) => l.trim()).filter(Boolean).find((l) => DAMAGE.test(l));
    // a stream with no frame at all fails in ffmpeg's filters: the caller says "no frames"
    if ((code !== 0 && !(yielded === 0 && !line)) || line) {
      const why = (line ?? err.trim().split('\n').pop() ?? `exit status ${code}`).replace(/^\[[^\]]*\]\s*/, '').slice(0, 120);
      throw new StyleloomError('E_INPUT', `${what} is truncated or damaged: ffmpeg stopped with "${why}"; give a complete video file`);
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed.catch(() => undefined);
  }
}

/** Decodes the whole plan once without keeping it: the number of frames, and whether the stream is whole. */
export async function countFrames(p: DecodePlan, what: string, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const _ of readFrames(p, what, signal)) n++;
  return n;
}
