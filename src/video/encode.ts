// Video frames out: RGB frames piped into ffmpeg as they are made, encoded by the output's extension
// (H.264/yuv420p MP4, VP9 WebM, animated GIF or WebP), the source's sound copied in (re-encoded to the
// container's codec), the provenance record in the container's metadata; written under a temp name, renamed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { lastLine, requireFfmpeg } from '../media/ffmpeg.js';
import { outputErrorMessage, syncDirectory, tempPathFor } from '../util/atomic.js';

export const VIDEO_FORMATS = ['mp4', 'webm', 'gif', 'webp'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

/** The output format of `file` by its extension; throws (naming {out}) on any other. */
export function videoFormatFor(file: string): VideoFormat {
  const ext = path.extname(file).slice(1).toLowerCase();
  if ((VIDEO_FORMATS as readonly string[]).includes(ext)) return ext as VideoFormat;
  throw optionError('E_USAGE', `{out} ${file}: unknown video format ${ext ? `.${ext}` : '(no extension)'}; use .mp4, .webm, .gif or .webp`);
}

/** Whether the format carries sound. */
export const formatHasAudio = (f: VideoFormat): boolean => f === 'mp4' || f === 'webm';

export interface EncodePlan {
  out: string;
  width: number;
  height: number;
  fps: number;
  /** Copy the sound of this part of a file (mp4/webm only). */
  audio?: { file: string; start: number; duration?: number };
  /** Container metadata: `comment` (the provenance JSON) and the like. */
  metadata?: Record<string, string>;
}

/** ffmpeg's arguments for `plan`, writing to `target` (exported for the tests). */
export function encodeArgs(plan: EncodePlan, target: string): string[] {
  const format = videoFormatFor(plan.out);
  const input = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${plan.width}x${plan.height}`, '-r', String(plan.fps), '-i', 'pipe:0'];
  const audio = plan.audio && formatHasAudio(format) ? plan.audio : undefined;
  const audioIn = audio ? [...(audio.start > 0 ? ['-ss', String(audio.start)] : []), ...(audio.duration !== undefined ? ['-t', String(audio.duration)] : []), '-i', audio.file] : [];
  const maps = ['-map', '0:v:0', ...(audio ? ['-map', '1:a:0?'] : [])];
  const tags = Object.entries(plan.metadata ?? {}).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
  let codec: string[];
  switch (format) {
    case 'mp4':
      codec = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '18', '-preset', 'medium', ...(audio ? ['-c:a', 'aac', '-b:a', '160k'] : []), '-movflags', '+faststart', '-f', 'mp4'];
      break;
    case 'webm':
      codec = ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-crf', '30', '-b:v', '0', ...(audio ? ['-c:a', 'libopus', '-b:a', '128k'] : []), '-f', 'webm'];
      break;
    case 'gif':
      codec = ['-filter_complex', '[0:v]split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer', '-loop', '0', '-f', 'gif'];
      break;
    case 'webp':
      codec = ['-c:v', 'libwebp', '-lossless', '0', '-q:v', '80', '-loop', '0', '-f', 'webp'];
      break;
  }
  return ['-hide_banner', '-nostdin', '-v', 'error', ...input, ...audioIn, ...(format === 'gif' ? [] : maps), '-shortest', ...codec, ...tags, '-y', target];
}

/** An encoder being fed: write() frames in order, then finish() (or abort()). */
export interface VideoWriter {
  write(frame: RgbImage): Promise<void>;
  /** Ends the stream, waits for ffmpeg, renames the temp file to `out`. */
  finish(): Promise<void>;
  /** Stops ffmpeg and removes the temp file; nothing is left at `out`. */
  abort(): Promise<void>;
}

/** Starts ffmpeg for `plan`; the output appears at `plan.out` only when finish() succeeds. */
export function openVideoWriter(plan: EncodePlan): VideoWriter {
  const bin = requireFfmpeg(`writing ${plan.out}`, 'write .png frames with styleloom instead');
  const tmp = tempPathFor(plan.out);
  const child: ChildProcess = spawn(bin, encodeArgs(plan, tmp), { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (err.length < 8000) err += d.toString();
  });
  let spawnError: Error | null = null;
  const closed = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  child.stdin!.on('error', () => undefined); // a dead ffmpeg shows up in `closed`
  const failed = (code: number | null) =>
    new StyleloomError('E_OUTPUT', `${plan.out}: ffmpeg could not write the video (${spawnError ? (spawnError as Error).message : lastLine(err, code).replace(/^\[[^\]]*\]\s*/, '').slice(0, 160)})`);
  const bytes = plan.width * plan.height * 3;
  let done = false;
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
    await unlink(tmp).catch(() => undefined);
  };
  return {
    async write(frame) {
      if (frame.width !== plan.width || frame.height !== plan.height || frame.data.length !== bytes) {
        throw new StyleloomError('E_INTERNAL', `frame ${frame.width}x${frame.height} for a ${plan.width}x${plan.height} video`);
      }
      if (child.exitCode !== null || spawnError) {
        const code = await closed;
        await cleanup();
        throw failed(code);
      }
      const ok = child.stdin!.write(frame.data);
      if (!ok) await new Promise<void>((resolve) => {
        const go = () => {
          child.stdin!.off('drain', go);
          child.off('close', go);
          resolve();
        };
        child.stdin!.once('drain', go);
        child.once('close', go);
      });
    },
    async finish() {
      if (done) return;
      done = true;
      child.stdin!.end();
      const code = await closed;
      if (code !== 0) {
        await cleanup();
        throw failed(code);
      }
      try {
        await rename(tmp, plan.out);
      } catch (e) {
        await cleanup();
        throw new StyleloomError('E_OUTPUT', outputErrorMessage(plan.out, e), { cause: e });
      }
      await syncDirectory(path.dirname(plan.out));
    },
    async abort() {
      done = true;
      child.stdin!.destroy();
      await cleanup();
    },
  };
}
