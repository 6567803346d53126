// Sample images for the web page's one-click choices: GET /api/samples lists the images of one
// folder chosen by the operator (an allow-list: nothing else is ever read), GET /api/samples/:name
// serves one of them, or a small JPEG thumbnail of it with ?thumb=1. A name is served only when it is
// exactly the name of a regular file (not a link) in that folder's listing, so no path can escape it.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import type { Sample } from './api-types.js';
import { HttpError } from './params.js';

export type { Sample } from './api-types.js';
import { PACKAGE_ROOT } from './models.js';

/** The default samples folder: ../shared/assets/images beside the repository (when it exists). */
export const defaultSamplesDir = (): string => path.resolve(PACKAGE_ROOT, '..', 'shared', 'assets', 'images');

const TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };
/** Names a sample may have at all (checked before the listing is read). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const THUMB_PX = 192;
const MAX_SAMPLES = 200;


/** Registers GET /api/samples and GET /api/samples/:name; `dir` undefined or missing: an empty list. */
export function registerSamples(app: FastifyInstance, dir: string | undefined): void {
  const root = dir ? path.resolve(dir) : undefined;
  // per file: size + mtime -> metadata and thumbnail, so a changed file is read again
  const meta = new Map<string, { key: string; width?: number; height?: number }>();
  const thumbs = new Map<string, { key: string; jpeg: Buffer }>();

  /** The regular image files directly in the folder, by name. */
  const listing = async (): Promise<Map<string, { file: string; bytes: number; key: string }>> => {
    const out = new Map<string, { file: string; bytes: number; key: string }>();
    if (!root) return out;
    let entries;
    try {
      entries = await fs.readdir(root, { withFileTypes: true });
    } catch {
      return out;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.size >= MAX_SAMPLES) break;
      if (!e.isFile() || !NAME_RE.test(e.name) || !TYPES[path.extname(e.name).toLowerCase()]) continue;
      const file = path.join(root, e.name);
      const st = await fs.lstat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      out.set(e.name, { file, bytes: st.size, key: `${st.size}:${st.mtimeMs}` });
    }
    return out;
  };

  const lookup = async (name: unknown) => {
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new HttpError(404, 'no such sample');
    const hit = (await listing()).get(name);
    if (!hit) throw new HttpError(404, 'no such sample');
    return hit;
  };

  app.get('/api/samples', async () => {
    const samples: Sample[] = [];
    for (const [name, f] of await listing()) {
      let m = meta.get(name);
      if (m?.key !== f.key) {
        const md = await sharp(f.file).metadata().catch(() => undefined);
        m = { key: f.key, width: md?.autoOrient?.width ?? md?.width, height: md?.autoOrient?.height ?? md?.height };
        meta.set(name, m);
      }
      const url = `/api/samples/${encodeURIComponent(name)}`;
      samples.push({ name, url, thumbUrl: `${url}?thumb=1`, bytes: f.bytes, width: m.width, height: m.height });
    }
    return { samples };
  });

  app.get('/api/samples/:name', async (req, reply) => {
    const f = await lookup((req.params as { name?: unknown }).name);
    const thumb = (req.query as { thumb?: string }).thumb;
    reply.header('cache-control', 'public, max-age=3600');
    if (thumb === '1' || thumb === 'true') {
      const name = path.basename(f.file);
      let t = thumbs.get(name);
      if (t?.key !== f.key) {
        const jpeg = await sharp(f.file)
          .rotate()
          .resize(THUMB_PX, THUMB_PX, { fit: 'cover' })
          .jpeg({ quality: 82, mozjpeg: true })
          .toBuffer()
          .catch(() => {
            throw new HttpError(404, 'this sample is not a readable image');
          });
        t = { key: f.key, jpeg };
        thumbs.set(name, t);
      }
      return reply.type('image/jpeg').send(t.jpeg);
    }
    return reply.type(TYPES[path.extname(f.file).toLowerCase()]).send(await fs.readFile(f.file));
  });
}
