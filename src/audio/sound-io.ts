// Sound files in and out: WAV read directly, other formats through ffmpeg, every input checked (empty,
// an image or text given as sound, truncated, too long), mixed to mono and resampled; WAV, FLAC or MP3
// out by extension, written atomically with the provenance record in the file's metadata.
import fs from 'node:fs';
import { readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import { tempPathFor, writeFileAtomic, syncDirectory } from '../util/atomic.js';
import { ffmpegDecode, ffmpegEncode, ffmpegTags } from './ffmpeg.js';
import { mixdown, resample } from './resample.js';
import { decodeWav, encodeWav, isWav, readWavInfo, wavFrames, type WavSampleFormat } from './wav.js';

/** A mono sound: samples in [-1, 1] at `sampleRate` Hz. */
export interface Sound {
  samples: Float32Array;
  sampleRate: number;
}

/** A sound given as a file path or as samples. */
export type SoundSource = string | Sound;

export const SOUND_FORMATS = ['wav', 'flac', 'mp3'] as const;
export type SoundFormat = (typeof SOUND_FORMATS)[number];

const IMAGE_MAGIC: [string, (b: Buffer) => boolean][] = [
  ['PNG', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ['JPEG', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['GIF', (b) => b.subarray(0, 4).toString('latin1') === 'GIF8'],
  ['WebP', (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP'],
  ['TIFF', (b) => ['II*\0', 'MM\0*'].includes(b.subarray(0, 4).toString('latin1'))],
  ['BMP', (b) => b.subarray(0, 2).toString('latin1') === 'BM'],
];

/** Whether the first bytes look like text (printable ASCII/UTF-8, no NUL). */
function looksLikeText(b: Buffer): boolean {
  const head = b.subarray(0, 1024);
  let bad = 0;
  for (const c of head) if (c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) bad++;
  return bad === 0 && !head.toString('utf8').includes('\ufffd');
}

export interface ReadSoundOptions {
  /** Target rate: the sound is resampled to it. */
  sampleRate: number;
  /** Longest sound accepted, seconds. */
  maxSeconds: number;
  /** How messages name it: "the content sound voice.wav". */
  what: string;
  signal?: AbortSignal;
}

/** The duration check (a template naming the limit's option). */
function checkDuration(seconds: number, o: ReadSoundOptions): void {
  if (seconds > o.maxSeconds) {
    throw optionError('E_INPUT', `${o.what} is ${seconds.toFixed(1)} s long, over the limit of {maxDuration} ${o.maxSeconds} s; cut it shorter or raise {maxDuration}`);
  }
}

/** Reads a sound (a file, or samples) as mono at `sampleRate`; resolves to it and the file's bytes (for its SHA-256). */
export async function readSound(src: SoundSource, o: ReadSoundOptions): Promise<{ sound: Sound; bytes?: Buffer }> {
  if (typeof src !== 'string') {
    if (!(src.samples instanceof Float32Array) || !(src.sampleRate > 0)) throw new StyleloomError('E_INPUT', `${o.what}: give a file path or { samples: Float32Array, sampleRate }`);
    if (src.samples.length === 0) throw new StyleloomError('E_INPUT', `${o.what} has no samples (zero length)`);
    checkDuration(src.samples.length / src.sampleRate, o);
    return { sound: { samples: resample(src.samples, src.sampleRate, o.sampleRate), sampleRate: o.sampleRate } };
  }
  const st = fs.statSync(src, { throwIfNoEntry: false });
  if (!st) throw new StyleloomError('E_INPUT', `${o.what}: no such file; check the path`);
  if (st.isDirectory()) throw new StyleloomError('E_INPUT', `${o.what} is a directory, not a sound file`);
  if (st.size === 0) throw new StyleloomError('E_INPUT', `${o.what} is empty (0 bytes); give a sound file`);
  const bytes = await readFile(src);
  const image = IMAGE_MAGIC.find(([, test]) => test(bytes));
  if (image) throw new StyleloomError('E_INPUT', `${o.what} is a ${image[0]} image, not a sound; give a sound file (WAV, FLAC, MP3, OGG, M4A)`);
  let decoded;
  if (isWav(bytes)) {
    const head = wavFrames(bytes, o.what);
    if (head) checkDuration(head.frames / head.sampleRate, o);
    decoded = decodeWav(bytes, o.what);
  } else {
    if (looksLikeText(bytes)) throw new StyleloomError('E_INPUT', `${o.what} is a text file, not a sound; give a sound file (WAV, FLAC, MP3, OGG, M4A)`);
    decoded = decodeWav(await ffmpegDecode(src, o.what, o.maxSeconds, o.signal), o.what, true);
  }
  const mono = mixdown(decoded.channels);
  checkDuration(mono.length / decoded.sampleRate, o);
  return { sound: { samples: resample(mono, decoded.sampleRate, o.sampleRate), sampleRate: o.sampleRate }, bytes };
}

/** The output format of `file` by its extension; throws (naming the option) on any other. */
export function soundFormatFor(file: string): SoundFormat {
  const ext = path.extname(file).slice(1).toLowerCase();
  if ((SOUND_FORMATS as readonly string[]).includes(ext)) return ext as SoundFormat;
  throw optionError('E_USAGE', `{out} ${file}: unknown sound format ${ext ? `.${ext}` : '(no extension)'}; use .wav, .flac or .mp3`);
}

/** `samples` scaled so that the peak is 0.98 (never above: no clipping); silence is left as it is. */
export function peakNormalise(samples: ArrayLike<number>, peak = 0.98): Float32Array {
  let m = 0;
  for (let i = 0; i < samples.length; i++) m = Math.max(m, Math.abs(samples[i]));
  const k = m > 0 ? peak / m : 1;
  const out = new Float32Array(samples.length);
  for (let i = 0; i < out.length; i++) out[i] = samples[i] * k;
  return out;
}

export interface WriteSoundOptions {
  /** WAV sample format (16-bit PCM or 32-bit float). */
  sampleFormat?: WavSampleFormat;
  /** Provenance: Software, Description and styleloom:* entries. */
  metadata?: Record<string, string>;
}

/** The provenance record as tags: Software, and the other entries as one JSON comment. */
function provenanceTags(metadata: Record<string, string> = {}): { software?: string; comment?: string } {
  const { Software: software, ...rest } = metadata;
  return { software, comment: Object.keys(rest).length ? JSON.stringify(rest) : undefined };
}

/** A mono sound as WAV bytes, with the provenance record in its LIST/INFO chunk (ISFT, ICMT). */
export function encodeSoundWav(sound: Sound, o: WriteSoundOptions = {}): Uint8Array {
  const { software, comment } = provenanceTags(o.metadata);
  const info: Record<string, string> = {};
  if (software) info.ISFT = software;
  if (comment) info.ICMT = comment;
  return encodeWav(sound.samples, sound.sampleRate, o.sampleFormat ?? 's16', info);
}

/** Writes a mono sound to `file` (format by extension), atomically: a temp name, then a rename. */
export async function writeSound(file: string, sound: Sound, o: WriteSoundOptions = {}): Promise<void> {
  const format = soundFormatFor(file);
  if (format === 'wav') {
    await writeFileAtomic(file, encodeSoundWav(sound, o));
    return;
  }
  const { software, comment } = provenanceTags(o.metadata);
  const wav = encodeWav(sound.samples, sound.sampleRate, 'f32');
  const tmp = tempPathFor(file);
  try {
    await ffmpegEncode(wav, tmp, format, { ...(software ? { encoded_by: software } : {}), ...(comment ? { comment } : {}) });
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(path.dirname(file));
}

/** The provenance record of a sound styleloom wrote (Software, Description, styleloom:*); {} if none. */
export async function readSoundMetadata(file: string): Promise<Record<string, string>> {
  const bytes = await readFile(file);
  const wav = isWav(bytes);
  const info = wav ? readWavInfo(bytes, file) : {};
  const tags = wav ? {} : await ffmpegTags(file).catch(() => ({}) as Record<string, string>);
  const software = wav ? info.ISFT : tags.encoded_by;
  const comment = wav ? info.ICMT : tags.comment;
  const out: Record<string, string> = {};
  if (software) out.Software = software;
  if (comment) {
    try {
      Object.assign(out, JSON.parse(comment) as Record<string, string>);
    } catch {
      out.Comment = comment;
    }
  }
  return out;
}

/** Whether `file`'s name says it is a sound styleloom writes (for `styleloom info`). */
export const isSoundPath = (file: string): boolean => (SOUND_FORMATS as readonly string[]).includes(path.extname(file).slice(1).toLowerCase());
