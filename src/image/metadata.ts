// Reads back the text metadata styleloom writes: PNG tEXt/iTXt chunks, or the JSON record in the
// EXIF ImageDescription of JPEG/WebP files.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { StyleloomError } from '../errors.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngText(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 8;
  while (at + 12 <= buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, Math.min(at + 8 + len, buf.length));
    if (type === 'tEXt') {
      const z = data.indexOf(0);
      if (z > 0) out[data.toString('latin1', 0, z)] = data.toString('latin1', z + 1);
    } else if (type === 'iTXt') {
      const z = data.indexOf(0);
      // keyword \0 compression-flag method language \0 translated \0 text
      if (z > 0 && data[z + 1] === 0) {
        const lang = data.indexOf(0, z + 3);
        const trans = lang >= 0 ? data.indexOf(0, lang + 1) : -1;
        if (trans >= 0) out[data.toString('latin1', 0, z)] = data.toString('utf8', trans + 1);
      }
    }
    if (type === 'IEND') break;
    at += 12 + len;
  }
  return out;
}

function exifJson(exif: Buffer | undefined): Record<string, string> {
  if (!exif) return {};
  const start = exif.indexOf('{"');
  if (start < 0) return {};
  const end = exif.indexOf(0, start);
  try {
    const v = JSON.parse(exif.toString('latin1', start, end < 0 ? exif.length : end));
    return typeof v === 'object' && v ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The text metadata of an image file ({} when it has none). */
export async function readImageMetadata(file: string): Promise<Record<string, string>> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StyleloomError('E_INPUT', code === 'ENOENT' ? `${file}: no such file; check the path` : `${file}: cannot read (${code}); check the path`);
  }
  if (buf.subarray(0, 8).equals(PNG_SIGNATURE)) return pngText(buf);
  try {
    return exifJson((await sharp(buf).metadata()).exif);
  } catch {
    throw new StyleloomError('E_INPUT', `${file}: not an image sharp can read; check the file`);
  }
}
