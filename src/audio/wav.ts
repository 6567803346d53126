// WAV (RIFF) read and written directly: PCM 8/16/24/32-bit and float 32/64-bit in, extensible headers
// too; 16-bit PCM or 32-bit float out, with a LIST/INFO chunk carrying the provenance record.
import { StyleloomError } from '../errors.js';

/** A decoded sound: channels of samples in [-1, 1] at `sampleRate`. */
export interface DecodedSound {
  sampleRate: number;
  channels: Float32Array[];
}

export type WavSampleFormat = 's16' | 'f32';

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Whether the bytes start like a RIFF/WAVE file. */
export const isWav = (b: Uint8Array): boolean => b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE';

interface Format {
  tag: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
}

/** Sample frames a WAV's header announces (to check a duration limit before decoding); null if unknown. */
export function wavFrames(b: Uint8Array, name: string): { frames: number; sampleRate: number } | null {
  const { fmt, data } = chunks(b, name, true);
  return fmt && data ? { frames: Math.floor(data.size / fmt.blockAlign), sampleRate: fmt.sampleRate } : null;
}

function chunks(b: Uint8Array, name: string, streaming: boolean): { fmt?: Format; data?: { at: number; size: number }; info: Record<string, string> } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let fmt: Format | undefined;
  let data: { at: number; size: number } | undefined;
  const info: Record<string, string> = {};
  let p = 12;
  while (p + 8 <= b.length) {
    const id = ascii(b, p, 4);
    let size = v.getUint32(p + 4, true);
    const body = p + 8;
    if (id === 'data') {
      const left = b.length - body;
      if (size > left) {
        // a header written before the length was known (a pipe) announces more than follows: read to the end
        if (!streaming) throw truncated(name, `its data chunk announces ${size} bytes but only ${left} follow`);
        size = left;
      }
      data = { at: body, size };
    } else if (id === 'fmt ') {
      if (size < 16 || body + size > b.length) throw truncated(name, 'its format chunk is cut short');
      let tag = v.getUint16(body, true);
      if (tag === 0xfffe && size >= 26) tag = v.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE: the subformat GUID's first two bytes
      fmt = { tag, channels: v.getUint16(body + 2, true), sampleRate: v.getUint32(body + 4, true), blockAlign: v.getUint16(body + 12, true), bits: v.getUint16(body + 14, true) };
    } else if (id === 'LIST' && body + 4 <= b.length && ascii(b, body, 4) === 'INFO') {
      let q = body + 4;
      const end = Math.min(b.length, body + size);
      while (q + 8 <= end) {
        const key = ascii(b, q, 4);
        const n = v.getUint32(q + 4, true);
        if (q + 8 + n > end) break;
        info[key] = new TextDecoder().decode(b.subarray(q + 8, q + 8 + n)).replace(/\0+$/, '');
        q += 8 + n + (n & 1);
      }
    }
    if (data && fmt) break;
    p = body + size + (size & 1);
  }
  return { fmt, data, info };
}

function truncated(name: string, why: string): StyleloomError {
  return new StyleloomError('E_INPUT', `${name}: the WAV file is truncated or corrupt (${why}); re-export the file`);
}

/**
 * Decodes a WAV file's bytes. `streaming`: the header may be a pipe's (lengths 0 or unknown), as
 * ffmpeg writes to stdout; otherwise a data chunk longer than the file is a truncated file.
 */
export function decodeWav(b: Uint8Array, name: string, streaming = false): DecodedSound {
  if (!isWav(b)) throw new StyleloomError('E_INPUT', `${name}: not a WAV file`);
  const { fmt, data } = chunks(b, name, streaming);
  if (!fmt) throw truncated(name, 'it has no format chunk');
  if (!data) throw truncated(name, 'it has no data chunk');
  const { tag, channels, bits, sampleRate } = fmt;
  const pcm = tag === 1 && [8, 16, 24, 32].includes(bits);
  const float = tag === 3 && (bits === 32 || bits === 64);
  if (!pcm && !float) throw new StyleloomError('E_INPUT', `${name}: WAV sample format ${tag} with ${bits} bits is not supported; convert it to 16-bit PCM or 32-bit float`);
  if (channels < 1 || sampleRate < 1) throw truncated(name, `it declares ${channels} channels at ${sampleRate} Hz`);
  const bytes = bits / 8;
  const frames = Math.floor(data.size / (bytes * channels));
  if (frames === 0) throw new StyleloomError('E_INPUT', `${name}: the sound has no samples (zero length); give a recording`);
  const v = new DataView(b.buffer, b.byteOffset + data.at, frames * bytes * channels);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const o = (i * channels + c) * bytes;
      let s: number;
      if (float) s = bits === 32 ? v.getFloat32(o, true) : v.getFloat64(o, true);
      else if (bits === 8) s = (v.getUint8(o) - 128) / 128;
      else if (bits === 16) s = v.getInt16(o, true) / 32768;
      else if (bits === 24) s = ((v.getUint8(o) | (v.getUint8(o + 1) << 8) | (v.getInt8(o + 2) << 16)) as number) / 8388608;
      else s = v.getInt32(o, true) / 2147483648;
      out[c][i] = s;
    }
  }
  return { sampleRate, channels: out };
}

/** The LIST/INFO text entries of a WAV file (ISFT software, ICMT comment, ...). */
export function readWavInfo(b: Uint8Array, name = 'WAV'): Record<string, string> {
  if (!isWav(b)) return {};
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const info: Record<string, string> = {};
  // scan every chunk (the LIST chunk may follow the data)
  let p = 12;
  while (p + 8 <= b.length) {
    const size = v.getUint32(p + 4, true);
    if (ascii(b, p, 4) === 'LIST') Object.assign(info, chunks(Uint8Array.from([...b.subarray(0, 12), ...b.subarray(p, p + 8 + size)]), name, true).info);
    p += 8 + size + (size & 1);
  }
  return info;
}

function infoChunk(info: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, text] of Object.entries(info)) {
    if (!/^[A-Z0-9]{4}$/.test(k)) throw new StyleloomError('E_INTERNAL', `WAV INFO key ${k} is not four characters`);
    const body = new TextEncoder().encode(`${text}\0`);
    const head = new Uint8Array(8);
    head.set(new TextEncoder().encode(k), 0);
    new DataView(head.buffer).setUint32(4, body.length, true);
    parts.push(head, body, new Uint8Array(body.length & 1));
  }
  const size = 4 + parts.reduce((s, x) => s + x.length, 0);
  const out = new Uint8Array(8 + size);
  out.set(new TextEncoder().encode('LIST'), 0);
  new DataView(out.buffer).setUint32(4, size, true);
  out.set(new TextEncoder().encode('INFO'), 8);
  let p = 12;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

/** A mono WAV file: 16-bit PCM (samples clipped to [-1, 1]) or 32-bit float; `info` as a LIST/INFO chunk. */
export function encodeWav(samples: ArrayLike<number>, sampleRate: number, format: WavSampleFormat = 's16', info: Record<string, string> = {}): Uint8Array {
  const bytes = format === 's16' ? 2 : 4;
  const list = Object.keys(info).length ? infoChunk(info) : new Uint8Array(0);
  const dataSize = samples.length * bytes;
  const fmtSize = format === 'f32' ? 18 : 16;
  const fact = format === 'f32' ? 12 : 0;
  const total = 12 + 8 + fmtSize + fact + list.length + 8 + dataSize + (dataSize & 1);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => out.set(new TextEncoder().encode(s), at);
  put(0, 'RIFF');
  v.setUint32(4, total - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, format === 's16' ? 1 : 3, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * bytes, true);
  v.setUint16(32, bytes, true);
  v.setUint16(34, bytes * 8, true);
  let p = 20 + fmtSize;
  if (format === 'f32') {
    put(p, 'fact');
    v.setUint32(p + 4, 4, true);
    v.setUint32(p + 8, samples.length, true);
    p += 12;
  }
  out.set(list, p);
  p += list.length;
  put(p, 'data');
  v.setUint32(p + 4, dataSize, true);
  p += 8;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (format === 's16') v.setInt16(p + 2 * i, Math.round(Math.max(-1, Math.min(1, s)) * 32767), true);
    else v.setFloat32(p + 4 * i, s, true);
  }
  return out;
}
