// Sound through ffmpeg (src/media/ffmpeg.ts) for the formats styleloom does not read itself: decode to a
// float WAV on a pipe, encode from WAV to FLAC or MP3, read a file's tags.
import { StyleloomError } from '../errors.js';
import { requireFfmpeg, runFfmpeg as run } from '../media/ffmpeg.js';

export { ffmpegPath, ffmpegTags } from '../media/ffmpeg.js';

/**
 * Decodes the first audio stream of `file` into a float WAV (its own channels and rate), at most
 * `maxSeconds` long plus a little (so that an over-long file is detected, not decoded whole).
 */
export async function ffmpegDecode(file: string, name: string, maxSeconds: number, signal?: AbortSignal): Promise<Buffer> {
  const bin = requireFfmpeg(`${name}: this format`);
  const args = ['-xerror', '-i', file, '-map', '0:a:0', '-vn', '-t', String(maxSeconds + 1), '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1'];
  try {
    return await run(bin, args, null, 8 * 192000 * 8 * (maxSeconds + 2), signal);
  } catch (e) {
    if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
    const why = (e as Error).message.replace(/^.*?:\s*/, '').slice(0, 200);
    throw new StyleloomError('E_INPUT', `${name}: not a sound file styleloom or ffmpeg can decode (${why}); give a WAV, FLAC, MP3, OGG or M4A file`);
  }
}

/** Encodes WAV bytes to `out` in `format` ('flac' or 'mp3') with `metadata` tags; ffmpeg writes `out` itself. */
export async function ffmpegEncode(wav: Uint8Array, out: string, format: 'flac' | 'mp3', metadata: Record<string, string>): Promise<void> {
  const bin = requireFfmpeg(`writing ${format.toUpperCase()}`);
  const tags = Object.entries(metadata).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
  const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-q:a', '2'] : ['-c:a', 'flac'];
  try {
    await run(bin, ['-f', 'wav', '-i', 'pipe:0', ...codec, ...tags, '-f', format, '-y', out], wav, 1e9);
  } catch (e) {
    throw new StyleloomError('E_OUTPUT', `${out}: ffmpeg could not write ${format.toUpperCase()} (${(e as Error).message.slice(0, 200)})`);
  }
}
