// Test helper: tiny clips made by the tests themselves, with the project's ffmpeg: lavfi test sources,
// and a textured photo panned by known whole-pixel amounts (the ground truth of the flow tests).
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ffmpegPath } from '../../src/media/ffmpeg.js';
import type { RgbImage } from '../../src/image/types.js';
import { CHELSEA } from './cli.js';

export function ffmpegBin(): string {
  const bin = ffmpegPath();
  assert.ok(bin, 'ffmpeg is installed (npm ci brings @ffmpeg-installer/ffmpeg)');
  return bin;
}

/** Runs ffmpeg (quiet, overwriting); `input` goes to its stdin. Throws with its stderr on failure. */
export function ffmpeg(args: string[], input?: Buffer): void {
  const r = spawnSync(ffmpegBin(), ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr?.toString()}`);
}

/** A clip of solid colours, `seconds` each at `fps` (e.g. red then blue), H.264 in MP4 or as `codec` says; with a sine tone if `audio`. */
export function colourClip(file: string, colours: string[], o: { width?: number; height?: number; fps?: number; seconds?: number; audio?: boolean; codec?: string[] } = {}): string {
  const { width = 64, height = 48, fps = 10, seconds = 0.5 } = o;
  const parts = colours.map((c, k) => `color=c=${c}:s=${width}x${height}:r=${fps}:d=${seconds}[c${k}]`);
  const graph = `${parts.join(';')};${colours.map((_, k) => `[c${k}]`).join('')}concat=n=${colours.length}:v=1:a=0[v]`;
  const audio = o.audio ? ['-f', 'lavfi', '-t', String(seconds * colours.length), '-i', 'sine=frequency=440:sample_rate=22050'] : [];
  ffmpeg(['-filter_complex', graph, ...audio, '-map', '[v]', ...(o.audio ? ['-map', '0:a', '-c:a', 'aac'] : []), ...(o.codec ?? ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-qp', '0']), file]);
  return file;
}

/** The photo (chelsea.png) as RGB at `width` px wide. */
export async function texture(width: number): Promise<RgbImage> {
  const { data, info } = await sharp(CHELSEA).resize({ width }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** The w x h window of `img` at (x0, y0). */
export function crop(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { data, width: w, height: h };
}

/**
 * `n` frames of a w x h camera panning over the photo by (dx, dy) whole pixels a frame: content moves by
 * (−dx, −dy) in the picture, so the flow from frame t to t−1 is (+dx, +dy) wherever the window saw it before.
 */
export async function panFrames(n: number, w: number, h: number, dx: number, dy: number, x0 = 40, y0 = 30): Promise<RgbImage[]> {
  const img = await texture(w + 2 * x0 + Math.abs(dx) * n);
  assert.ok(img.height >= h + y0 + Math.abs(dy) * n, 'the photo is tall enough for the pan');
  return Array.from({ length: n }, (_, t) => crop(img, x0 + dx * t, y0 + dy * t, w, h));
}

/** Writes RGB frames as a lossless-ish H.264 MP4 (qp 0) at `fps`. */
export function writeClip(file: string, frames: RgbImage[], fps = 10, extra: string[] = []): string {
  const { width, height } = frames[0];
  const raw = Buffer.concat(frames.map((f) => Buffer.from(f.data)));
  ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0', ...extra, '-c:v', 'libx264rgb', '-qp', '0', file], raw);
  return file;
}

/** Mean |a − b| over all bytes of two frames of one size. */
export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  assert.equal(a.data.length, b.data.length);
  let s = 0;
  for (let k = 0; k < a.data.length; k++) s += Math.abs(a.data[k] - b.data[k]);
  return s / a.data.length;
}

/** The mean colour of a frame. */
export function meanColour(f: RgbImage): [number, number, number] {
  const s = [0, 0, 0];
  for (let k = 0; k < f.data.length; k++) s[k % 3] += f.data[k];
  const n = f.width * f.height;
  return [s[0] / n, s[1] / n, s[2] / n];
}
