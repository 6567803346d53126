// Reading the multipart body of POST /api/jobs: files streamed to temp files in the upload folder
// (never whole in memory), text fields kept, the total size capped, a body that stalls cut with a
// 408, a malformed body a 400, and a client that goes away a ClientAbortError (logged quietly).
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { oneLine } from './jobs.js';
import { HttpError } from './params.js';
import { isMaskField, type MaskField } from './mask-fields.js';

/** The client closed the connection before its upload was in. */
export class ClientAbortError extends Error {
  constructor(why = 'the client aborted the upload') {
    super(why);
    this.name = 'ClientAbortError';
  }
}

export interface UploadPart {
  /** The temp file holding the part. */
  path: string;
  bytes: number;
  filename?: string;
}

export interface Upload {
  fields: Record<string, string>;
  /** Bytes of all files together. */
  bytes: number;
  content?: UploadPart;
  styles: UploadPart[];
  /** The mask uploads ("mask", "style_mask", "style_region"), in the order sent. */
  masks: Record<MaskField, UploadPart[]>;
  /** Removes the temp files that are still there (those not moved into a job). */
  cleanup(): Promise<void>;
}

export interface UploadLimits {
  /** Largest total of all files of the request. */
  maxBytes: number;
  maxUploadMb: number;
  /** A body that sends nothing for this long is answered 408 and the connection closed. */
  bodyTimeoutMs: number;
  /** Told (one line) when a body stalls: the handler no longer answers, so the error handler never sees it. */
  log?: (line: string) => void;
}

/** Counts the bytes of all files of one request; past the limit the stream fails with a 413. */
function counter(state: { total: number }, limits: UploadLimits): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      state.total += chunk.length;
      if (state.total > limits.maxBytes) cb(new HttpError(413, `upload too large: at most ${limits.maxUploadMb} MB per request`));
      else cb(null, chunk);
    },
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** A 408 written on the raw socket: the handler is still waiting for a body that will not come. */
function answerStalled(reply: FastifyReply, ms: number): void {
  const res = reply.raw;
  const socket = res.socket; // taken now: the response lets go of it once it has ended
  if (!res.headersSent) {
    const body = JSON.stringify({ error: `the request body stalled (nothing for ${seconds(ms)}); send it again` });
    res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }
  setTimeout(() => socket?.destroy(), 50).unref();
}

/** Reads the parts of `req` into `dir` (which must exist). */
export async function readUpload(req: FastifyRequest, reply: FastifyReply, dir: string, limits: UploadLimits): Promise<Upload> {
  const temps: string[] = [];
  // each temp file's stream, closed: an upload that is gone wins the race below while its write stream may
  // still be opening the file (even after the pipeline has failed), so cleanup waits for every stream's
  // 'close' (emitted once its file is open and closed again, or its open failed) before removing
  const closed: Promise<unknown>[] = [];
  const upload: Upload = {
    fields: Object.create(null) as Record<string, string>,
    bytes: 0,
    styles: [],
    masks: { mask: [], style_mask: [], style_region: [] },
    cleanup: async () => {
      await Promise.all(closed);
      await Promise.all(temps.map((p) => fs.rm(p, { force: true })));
    },
  };
  let problem: HttpError | undefined;
  const state = { total: 0 };
  // on the request, not the socket: then the server's own timeout handler leaves the socket to us
  // (only with a real socket: app.inject's stand-in has no timers)
  const socket = typeof req.raw.socket?.setTimeout === 'function' ? req.raw.socket : undefined;
  const timed = socket ? req.raw : undefined;
  let stalled = false;
  // the parser does not always notice a connection that is gone: every wait below also races this
  const gone = new AbortController();
  const goneError = new Promise<never>((_, reject) => gone.signal.addEventListener('abort', () => reject(new ClientAbortError())));
  goneError.catch(() => undefined);
  const onClose = () => {
    if (!req.raw.complete) gone.abort();
  };
  req.raw.on('close', onClose);
  const onStall = () => {
    stalled = true;
    reply.hijack(); // this handler will not answer any more: the 408 goes out here
    answerStalled(reply, limits.bodyTimeoutMs);
    limits.log?.(`${req.method} ${oneLine(req.url, 120)}: the upload stalled (nothing for ${seconds(limits.bodyTimeoutMs)}); answered 408 and closed`);
    gone.abort();
  };
  timed?.setTimeout(limits.bodyTimeoutMs, onStall);
  try {
    const parts = req.parts()[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([parts.next(), goneError]);
      if (next.done) break;
      const part = next.value;
      if (part.type === 'file') {
        if (part.fieldname !== 'content' && part.fieldname !== 'style' && !isMaskField(part.fieldname)) {
          problem ??= new HttpError(400, `unknown file field ${JSON.stringify(oneLine(part.fieldname, 40))}; send the image as "content", the style image(s) as "style", masks as "mask", "style_mask", "style_region"`);
          part.file.resume();
          continue;
        }
        const tmp = path.join(dir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
        temps.push(tmp);
        const before = state.total;
        // past the per-file limit the plugin fails the stream with FST_REQ_FILE_TOO_LARGE (413)
        const out = createWriteStream(tmp, { flags: 'wx' });
        closed.push(new Promise((resolve) => out.once('close', () => resolve(undefined))));
        const write = pipeline(part.file, counter(state, limits), out, { signal: gone.signal });
        write.catch(() => undefined);
        await Promise.race([write, goneError]);
        const p: UploadPart = { path: tmp, bytes: state.total - before, filename: part.filename };
        if (part.fieldname === 'content') {
          if (upload.content) problem ??= new HttpError(400, 'more than one "content" file; send exactly one');
          upload.content = p;
        } else if (isMaskField(part.fieldname)) upload.masks[part.fieldname].push(p);
        else upload.styles.push(p);
      } else {
        const name = part.fieldname;
        if (name in upload.fields) problem ??= new HttpError(400, `field ${JSON.stringify(oneLine(name, 40))} given twice; give it once`);
        upload.fields[name] = typeof part.value === 'string' ? part.value : String(part.value);
      }
    }
  } catch (e) {
    await upload.cleanup();
    if (stalled) throw new ClientAbortError('the upload stalled');
    if (req.raw.destroyed || socket?.destroyed) throw new ClientAbortError();
    if (e instanceof HttpError) throw e;
    const err = e as { code?: string; statusCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('FST_') && typeof err.statusCode === 'number') throw e; // the plugin's limits (413)
    if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || /aborted/i.test(err.message ?? '')) throw new ClientAbortError();
    throw new HttpError(400, `malformed multipart body (${oneLine(err.message ?? String(e), 120)}); send multipart/form-data as a browser or curl -F does`);
  } finally {
    timed?.off('timeout', onStall);
    req.raw.off('close', onClose);
    if (!stalled) socket?.setTimeout(0);
  }
  if (upload.masks.mask.length > 1) problem ??= new HttpError(400, 'more than one "mask" file; send at most one');
  if (problem) {
    await upload.cleanup();
    throw problem;
  }
  upload.bytes = state.total;
  return upload;
}
