// What a video file holds, read off `ffmpeg -i` (the shipped ffmpeg has no ffprobe): its first video
// stream's size and frame rate, the duration, whether it has sound; every unusable input is one E_INPUT line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { StyleloomError } from '../errors.js';
import { requireFfmpeg } from '../media/ffmpeg.js';

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second of the first video stream (its average rate, else ffmpeg's tbr guess). */
  fps: number;
  /** Seconds, or null when the container does not say. */
  duration: number | null;
  hasAudio: boolean;
  /** The video codec's name (h264, vp9, ...). */
  codec: string;
  /** The demuxer ffmpeg chose (mov,mp4,..., matroska,webm, gif, ...). */
  container: string;
}

/** Whether the first bytes look like text (printable ASCII/UTF-8, no NUL). */
function looksLikeText(b: Buffer): boolean {
  const head = b.subarray(0, 1024);
  for (const c of head) if (c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) return false;
  return !head.toString('utf8').includes('\ufffd');
}

/** The first KiB of `file` (never the whole clip), or null if it cannot be read. */
async function readHead(file: string): Promise<Buffer | null> {
  try {
    const fh = await open(file, 'r');
    try {
      const b = Buffer.alloc(1024);
      const { bytesRead } = await fh.read(b, 0, b.length, 0);
      return b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** ffmpeg's description of `file` (stderr of `ffmpeg -i file` with no output: it exits 1 by design). */
function describe(bin: string, file: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-hide_banner', '-nostdin', '-i', file], { stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 64000) err += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(err));
  });
}

const seconds = (h: string, m: string, s: string) => Number(h) * 3600 + Number(m) * 60 + Number(s);

/** Parses ffmpeg's input description; null fields where it does not say. Exported for the tests. */
export function parseDescription(text: string): { container?: string; duration: number | null; video?: { codec: string; width: number; height: number; fps?: number }; hasAudio: boolean } {
  const container = /^Input #0, ([^\n]*?), from /m.exec(text)?.[1];
  const d = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(text);
  const vm = /Stream #0:\d+[^\n]*?: Video: ([^\n]*)/.exec(text);
  const vline = vm?.[1];
  let video;
  if (vm && vline) {
    const size = /(?:^|[ ,])(\d{1,6})x(\d{1,6})(?=[ ,\]]|$)/.exec(vline);
    const fps = /([\d.]+)(k?) fps/.exec(vline) ?? /([\d.]+)(k?) tbr/.exec(vline);
    // the stream's own lines (metadata, side data) up to the next stream: a rotation there is applied by
    // ffmpeg when it decodes (autorotate), so a quarter turn swaps the frames' sides
    const rest = text.slice(vm.index + vm[0].length);
    const own = rest.slice(0, rest.search(/\n\s*Stream #|$/) + 1 || undefined);
    const turn = /rotate\s*:\s*(-?\d+)/.exec(own)?.[1] ?? /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(own)?.[1];
    const quarter = turn !== undefined && Math.round(Math.abs(Number(turn)) / 90) % 2 === 1;
    if (size) {
      const [w, h] = [Number(size[1]), Number(size[2])];
      video = {
        codec: vline.split(/[ ,]/)[0],
        width: quarter ? h : w,
        height: quarter ? w : h,
        fps: fps ? Number(fps[1]) * (fps[2] ? 1000 : 1) : undefined,
      };
    }
  }
  return { container, duration: d ? seconds(d[1], d[2], d[3]) : null, video, hasAudio: /Stream #0:\d+[^\n]*?: Audio: /.test(text) };
}

/**
 * The video stream of `file`; `what` names it in messages ("the content video clip.mp4"). Rejects a
 * missing or empty file, text, a still image, a file ffmpeg cannot read (damaged or truncated), and sound only.
 */
export async function probeVideo(file: string, what: string, signal?: AbortSignal): Promise<VideoInfo> {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) throw new StyleloomError('E_INPUT', `${what}: no such file; check the path`);
  if (st.isDirectory()) throw new StyleloomError('E_INPUT', `${what} is a directory, not a video file`);
  if (st.size === 0) throw new StyleloomError('E_INPUT', `${what} is empty (0 bytes); give a video file`);
  const head = await readHead(file);
  if (!head) throw new StyleloomError('E_INPUT', `${what}: cannot read the file; check its permissions`);
  if (looksLikeText(head)) throw new StyleloomError('E_INPUT', `${what} is a text file, not a video; give a video file (MP4, WebM, MOV, MKV, GIF, ...)`);
  const bin = requireFfmpeg(`${what}: reading video`, 'give frames as images to styleloom instead');
  const text = await describe(bin, file, signal);
  const info = parseDescription(text);
  if (!info.container) {
    const why = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith(file) && !/^Last message repeated/.test(l)).pop() ?? 'unknown format';
    throw new StyleloomError('E_INPUT', `${what} is not a video ffmpeg can read, or it is truncated or damaged (${why.replace(/^\[[^\]]*\]\s*/, '').slice(0, 120)}); give a complete video file`);
  }
  if (/(^|,)(image2|\w+_pipe)(,|$)/.test(info.container)) {
    throw new StyleloomError('E_INPUT', `${what} is a still image (${info.container}), not a video; use \`styleloom\` or \`styleloom fast\` for images`);
  }
  if (!info.video) {
    const tail = info.hasAudio ? 'it holds sound only; for sounds use `styleloom audio`' : 'it holds no video stream';
    throw new StyleloomError('E_INPUT', `${what} has no video: ${tail}; give a video file`);
  }
  const { width, height, codec, fps } = info.video;
  if (!(width > 0 && height > 0)) throw new StyleloomError('E_INPUT', `${what}: its video stream has no size (${width}x${height}); the file is damaged`);
  return { width, height, codec, fps: fps && fps > 0 && fps < 1000 ? fps : 25, duration: info.duration, hasAudio: info.hasAudio, container: info.container };
}
