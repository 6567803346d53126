// GET /api/weights: the server's VGG-19 safetensors file, with byte ranges (206), so that the page's
// on-this-device mode can read only the tensors it needs from the server it was loaded from.
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { HttpError } from '../params.js';

/** The byte range [start, end] (inclusive) a Range header asks for in a file of `size` bytes; null: the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or a bad header: send it all (RFC 9110 allows that)
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

export function registerWeightsRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/weights', async (req, reply) => {
    const vgg = ctx.models.vgg;
    if (!vgg) throw new HttpError(404, `the server has no VGG-19 weights${ctx.models.vggError ? ` (${ctx.models.vggError})` : ''}`);
    const st = await fs.promises.stat(vgg.path);
    const range = parseRange(req.headers.range, st.size);
    reply.type('application/octet-stream').header('accept-ranges', 'bytes').header('etag', `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`).header('cache-control', 'no-cache');
    if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${st.size}`).send();
    if (!range) return reply.header('content-length', st.size).send(fs.createReadStream(vgg.path));
    return reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${st.size}`)
      .header('content-length', range.end - range.start + 1)
      .send(fs.createReadStream(vgg.path, { start: range.start, end: range.end }));
  });
}
