// A content clip made ready for the frame loop: probed, its part (--start, --duration) checked against the
// clip and the limits, the working size chosen (--size long side, even sides), and its frames counted by
// one decoding pass that also finds truncated or damaged streams before any work is done.
import { optionError, StyleloomError } from '../errors.js';
import { MAX_SIZE } from '../options/table.js';
import { countFrames, type DecodePlan } from './decode.js';
import { probeVideo, type VideoInfo } from './probe.js';

/** Long side of the frames when {size} is not given and the clip is larger. */
export const VIDEO_DEFAULT_SIZE = 512;

export interface ClipRequest {
  file: string;
  what: string;
  size?: number;
  start: number;
  duration?: number;
  fps?: number;
  maxDuration: number;
  signal?: AbortSignal;
}

export interface Clip {
  info: VideoInfo;
  plan: DecodePlan;
  /** Frames the plan decodes to. */
  frames: number;
}

/** Even sides with the long side `size` (at least 2 px each) for a `w` x `h` source. */
export function workingSize(w: number, h: number, size: number): { width: number; height: number } {
  const s = size / Math.max(w, h);
  const even = (v: number) => Math.max(2, 2 * Math.round((v * s) / 2));
  return { width: even(w), height: even(h) };
}

/** Probes, checks and counts the clip of `r`. */
export async function openClip(r: ClipRequest): Promise<Clip> {
  const info = await probeVideo(r.file, r.what, r.signal);
  if (Math.max(info.width, info.height) > MAX_SIZE) {
    throw new StyleloomError('E_INPUT', `${r.what} is ${info.width}x${info.height}, over the limit of ${MAX_SIZE} px a side; scale it down first (e.g. ffmpeg -vf scale=-2:1080)`);
  }
  if (info.duration !== null && r.start > 0 && r.start >= info.duration) {
    throw optionError('E_USAGE', `{start} ${r.start} s is beyond the end of ${r.what} (${info.duration.toFixed(2)} s long); give a smaller {start}`);
  }
  const left = info.duration === null ? null : info.duration - r.start;
  const length = r.duration !== undefined && (left === null || r.duration < left) ? r.duration : left;
  if (length !== null && length > r.maxDuration) {
    throw optionError('E_INPUT', `${r.what}: ${length.toFixed(1)} s to stylise, over the limit of {maxDuration} ${r.maxDuration} s; cut it with {start}/{duration} or raise {maxDuration}`);
  }
  const fps = r.fps ?? info.fps;
  const { width, height } = workingSize(info.width, info.height, r.size ?? Math.min(VIDEO_DEFAULT_SIZE, Math.max(info.width, info.height)));
  const plan: DecodePlan = { file: r.file, start: r.start, duration: length === null ? r.maxDuration + 1 : r.duration, fps, width, height };
  const frames = await countFrames(plan, r.what, r.signal);
  if (frames === 0) {
    const where = r.start > 0 ? ` from {start} ${r.start} s` : '';
    throw optionError('E_INPUT', `${r.what} has no video frames${where}; give a clip with frames (or a smaller {start})`);
  }
  if (length === null && frames > Math.ceil(r.maxDuration * fps)) {
    throw optionError('E_INPUT', `${r.what} is longer than the limit of {maxDuration} ${r.maxDuration} s; cut it with {start}/{duration} or raise {maxDuration}`);
  }
  return { info, plan, frames };
}
