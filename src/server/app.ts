// The HTTP service of styleloom (fastify): submit style-transfer jobs with multipart uploads, follow
// them by polling or Server-Sent Events, fetch the result PNG, cancel, list; plus health, models and
// an OpenAPI document. createServer() is the library entry; `styleloom serve` wraps it.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import sharp from 'sharp';
import { StyleloomError } from '../errors.js';
import { readImage } from '../image/io.js';
import { defaultThreads } from '../runtime/session.js';
import type { DeviceKind } from '../runtime/device.js';
import { VERSION } from '../version.js';
import { defaultDataDir, isFinal, isJobId, jobView, oneLine, type JobRecord } from './jobs.js';
import { defaultFastModelsDir, describeVgg, listFastModels, PACKAGE_ROOT, type FastModelInfo, type VggInfo } from './models.js';
import { openApiDocument } from './openapi.js';
import { apiMessage, HttpError, parseFastParams, parseGatysParams, parseMode, type ParamContext } from './params.js';
import { DiskJobStore } from './disk-store.js';
import { LocalJobQueue } from './local-queue.js';
import { QueueClosedError, QueueFullError, type JobQueue, type JobRunner, type UploadedFile } from './queue.js';
import { createDefaultRunner } from './runner.js';
import { defaultSamplesDir, registerSamples } from './samples.js';

export interface ServerOptions {
  /** Where jobs are kept (default: $STYLELOOM_DATA, else <styleloom cache>/server, i.e. ~/.cache/styleloom/server). */
  dataDir?: string;
  /** Jobs run at the same time (default 1). */
  concurrency?: number;
  /** Jobs waiting beyond the running ones before POST /api/jobs answers 429 (default 20). */
  maxQueue?: number;
  /** Largest upload, all files of one request together, in MB (default 25); more is 413. */
  maxUploadMb?: number;
  /** Largest decoded image accepted, in pixels (default 40 MP). */
  maxPixels?: number;
  /** Largest `size` a job may ask for (default 1024). */
  maxSize?: number;
  /** Largest iters × scales of a job (default 2000). */
  maxIters?: number;
  /** Most style images per job (default 8). */
  maxStyles?: number;
  /** Send Access-Control-Allow-Origin: * and answer preflight requests (default false). */
  cors?: boolean;
  /** Keep jobs queued until queue.start() (default false). */
  paused?: boolean;
  /** VGG-19 weights (default: STYLELOOM_WEIGHTS, then the cache, as the CLI). */
  weights?: string;
  /** Folder of fast-style networks (default: STYLELOOM_FAST_MODELS, else ../shared/assets/fast-style beside the repository). */
  fastModelsDir?: string;
  /** onnxruntime threads per job (default: cores / concurrency). */
  threads?: number;
  device?: DeviceKind;
  /** Preview PNG every N iterations (default 0: about 25 per job). */
  previewEvery?: number;
  /** Static files of the web page (default: <repo>/web/dist when it exists). */
  webDir?: string;
  /** Folder of sample images offered by GET /api/samples (only its image files are served; default: ../shared/assets/images beside the repository, when it exists). */
  samplesDir?: string;
  /** Runs jobs (default: stylize()/fastStylize()); tests pass their own. */
  runner?: JobRunner;
  /** Seconds between SSE keep-alive comments (default 15). */
  ssePingSeconds?: number;
  /** fastify's logger (default off). */
  logger?: boolean;
  /** Called with a one-line message when a job fails or a request hits an internal error. */
  log?: (line: string) => void;
}

export interface StyleloomServer {
  app: FastifyInstance;
  queue: JobQueue;
  dataDir: string;
  /** Every route registered ("GET /api/jobs/:id", ...; HEAD and OPTIONS left out). */
  routes: string[];
  /** Stops the queue (running jobs stay queued on disk for the next start), closes streams and the server. */
  close(): Promise<void>;
}

const MB = 1024 * 1024;
/** Decoded formats accepted in uploads (sharp can read more, e.g. SVG and PDF, which a server should not). */
const FORMATS: Record<string, string> = { png: 'png', jpeg: 'jpg', webp: 'webp', gif: 'gif', tiff: 'tif', heif: 'avif' };


const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>styleloom</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>styleloom</h1>
<p>The web page is not built (no <code>web/dist</code> folder). The HTTP API is running:
see <a href="/api/openapi.json">/api/openapi.json</a>, <a href="/api/health">/api/health</a> and
<a href="/api/jobs">/api/jobs</a>.</p>
</body></html>
`;

/** At most `n` callers at a time in `run` (the others wait in order). */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function clientName(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  const base = path.basename(filename.replace(/\\/g, '/'));
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
  return clean || undefined;
}

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new StyleloomError('E_USAGE', `${name} must be a whole number >= ${min}, got ${v}`);
  return v;
}

export async function createServer(options: ServerOptions = {}): Promise<StyleloomServer> {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  const concurrency = positiveInt('concurrency', options.concurrency ?? 1);
  const maxQueue = positiveInt('max queue', options.maxQueue ?? 20);
  const maxUploadMb = options.maxUploadMb ?? 25;
  if (!(maxUploadMb > 0 && Number.isFinite(maxUploadMb))) throw new StyleloomError('E_USAGE', `max upload must be a number of MB > 0, got ${maxUploadMb}`);
  const maxBytes = Math.floor(maxUploadMb * MB);
  const maxPixels = positiveInt('max pixels', options.maxPixels ?? 40_000_000);
  const maxStyles = positiveInt('max styles', options.maxStyles ?? 8);
  const limits = { maxSize: positiveInt('max size', options.maxSize ?? 1024, 16), maxIters: positiveInt('max iters', options.maxIters ?? 2000) };
  const log = options.log ?? (() => undefined);
  const pingMs = (options.ssePingSeconds ?? 15) * 1000;

  const { vgg, error: vggError } = await describeVgg(options.weights);
  const fastDir = options.fastModelsDir ?? defaultFastModelsDir();
  let fastModels: FastModelInfo[] = await listFastModels(fastDir);
  const refreshModels = async () => (fastModels = await listFastModels(fastDir));

  const runner = options.runner
    ? { run: options.runner, close: async () => undefined }
    : createDefaultRunner({
        weights: vgg?.path,
        threads: options.threads ?? Math.max(1, Math.floor(defaultThreads() / concurrency)),
        device: options.device,
        previewEvery: options.previewEvery,
        fastModels: () => fastModels,
      });
  const queue = await LocalJobQueue.create({
    store: new DiskJobStore(dataDir),
    runner: runner.run,
    concurrency,
    maxQueue,
    paused: options.paused,
    onError: (job, err) => log(`job ${job.id} failed: ${job.error ?? (err instanceof Error ? err.message : String(err))}`),
  });

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1 * MB });
  const streams = new Set<ServerResponse>();
  const decodeSlot = limiter(2);
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD' && m !== 'OPTIONS') routes.push(`${m} ${r.url}`);
  });

  await app.register(multipart, {
    limits: { fileSize: maxBytes, files: maxStyles + 1, fields: 40, fieldSize: 64 * 1024, parts: maxStyles + 41, headerPairs: 200 },
  });

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (options.cors) {
      reply.header('access-control-allow-origin', '*');
      reply.header('access-control-expose-headers', 'Location');
    }
  });
  if (options.cors) {
    app.options('/*', async (_req, reply) => {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header('access-control-allow-headers', 'Content-Type')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    });
  }

  app.setErrorHandler((err: unknown, req, reply) => {
    let status = 500;
    let message = 'internal error; see the server log';
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (err instanceof HttpError) [status, message] = [err.status, err.message];
    else if (err instanceof QueueFullError) {
      [status, message] = [429, err.message];
      reply.header('retry-after', '10');
    } else if (err instanceof QueueClosedError) [status, message] = [503, err.message];
    else if (err instanceof StyleloomError && (err.code === 'E_USAGE' || err.code === 'E_INPUT')) [status, message] = [400, apiMessage(err.message)];
    else if (e?.code === 'FST_REQ_FILE_TOO_LARGE') [status, message] = [413, `upload too large: at most ${maxUploadMb} MB per request`];
    else if (e?.code === 'FST_FILES_LIMIT') [status, message] = [413, `too many files: one "content" and at most ${maxStyles} "style" files`];
    else if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) [status, message] = [e.statusCode, e.message ?? 'bad request'];
    if (status >= 500) log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void reply.code(status).type('application/json; charset=utf-8').send({ error: oneLine(message) });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `not found: ${req.method} ${oneLine(req.url, 120)}` });
  });

  /** The job of a route's :id, or 404 (the id is checked by regex before anything else). */
  const jobOf = (req: FastifyRequest): JobRecord => {
    const id = (req.params as { id?: unknown }).id;
    const job = isJobId(id) ? queue.get(id) : undefined;
    if (!job) throw new HttpError(404, 'no such job');
    return job;
  };

  const paramContext = (): ParamContext => ({ limits, vgg: vgg ? { path: vgg.path, layers: vgg.layers } : null, vggError, fastModels: fastModels.map((m) => m.name) });

  app.get('/api/health', async () => ({ ok: true, version: VERSION, queue: queue.stats(), uptimeS: Math.round(process.uptime()) }));

  app.get('/api/models', async () => {
    await refreshModels();
    const v: (VggInfo & { error?: undefined }) | { path: null; layers: []; error?: string } = vgg ?? { path: null, layers: [], error: vggError };
    return { vgg: v, fast: fastModels.map((m) => ({ name: m.name })), fastModelsDir: fastDir, limits: { ...limits, maxUploadMb, maxPixels, maxStyles } };
  });

  app.get('/api/openapi.json', async () => openApiDocument({ version: VERSION }));

  app.get('/api/jobs', async (req) => {
    const raw = (req.query as { limit?: string }).limit;
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, `limit must be a whole number from 1 to 1000, got ${JSON.stringify(raw)}`);
    return { jobs: queue.list(limit).map((j) => jobView(j, { history: false })), queue: queue.stats() };
  });

  app.post('/api/jobs', async (req, reply) => {
    if (!req.isMultipart()) throw new HttpError(400, 'send multipart/form-data: a "content" image file, "style" image file(s) and the parameters as text fields');
    const stats = queue.stats();
    if (stats.queued >= stats.maxQueue) throw new QueueFullError(stats.maxQueue);
    const fields: Record<string, string> = Object.create(null);
    let content: { data: Buffer; filename?: string } | undefined;
    const styles: { data: Buffer; filename?: string }[] = [];
    let problem: HttpError | undefined;
    let total = 0;
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'content' && part.fieldname !== 'style') {
          problem ??= new HttpError(400, `unknown file field ${JSON.stringify(oneLine(part.fieldname, 40))}; send the image as "content" and the style image(s) as "style"`);
          part.file.resume();
          continue;
        }
        const data = await part.toBuffer(); // throws FST_REQ_FILE_TOO_LARGE (413) past the limit
        total += data.length;
        if (total > maxBytes) throw new HttpError(413, `upload too large: at most ${maxUploadMb} MB per request`);
        if (part.fieldname === 'content') {
          if (content) problem ??= new HttpError(400, 'more than one "content" file; send exactly one');
          content = { data, filename: part.filename };
        } else styles.push({ data, filename: part.filename });
      } else {
        const name = part.fieldname;
        if (name in fields) problem ??= new HttpError(400, `field ${JSON.stringify(oneLine(name, 40))} given twice; give it once`);
        fields[name] = typeof part.value === 'string' ? part.value : String(part.value);
      }
    }
    if (problem) throw problem;
    if (!content || content.data.length === 0) throw new HttpError(400, 'a content image is required: a multipart file field named "content"');
    const mode = parseMode(fields);
    delete fields.mode;
    if (mode === 'fast') await refreshModels();
    const ctx = paramContext();
    const params = mode === 'fast' ? parseFastParams(fields, styles.length, ctx) : parseGatysParams(fields, styles.length, ctx);
    const check = async (f: { data: Buffer; filename?: string }, role: string, k: number) => {
      const fmt = await sharp(f.data).metadata().then((m) => m.format, () => undefined);
      if (fmt === undefined || FORMATS[fmt] === undefined) {
        throw new HttpError(400, `${role}: not an image this server accepts (PNG, JPEG, WebP, GIF, TIFF, AVIF); convert it first`);
      }
      // decode the whole image (the only real check), a few at a time: a burst of uploads must not
      // hold a decoded copy of every one of them at once; only the size is kept
      const { width, height } = await decodeSlot(() => readImage(f.data, { name: role, maxPixels }));
      const img = { width, height };
      const file: UploadedFile = { name: `${k === 0 ? 'content' : `style-${k}`}.${FORMATS[fmt]}`, data: f.data, clientName: clientName(f.filename) };
      return { file, img };
    };
    const c = await check(content, 'content', 0);
    const s = [];
    for (let k = 0; k < styles.length; k++) s.push(await check(styles[k], styles.length > 1 ? `style ${k + 1}` : 'style', k + 1));
    if (mode === 'fast' && !('size' in fields)) {
      // no size given: the content's own, within the server's limit
      const long = Math.max(c.img.width, c.img.height);
      (params as { size?: number }).size = long > limits.maxSize ? limits.maxSize : undefined;
    }
    const job = await queue.enqueue({ mode, params, content: c.file, styles: s.map((x) => x.file) });
    void reply.code(201).header('location', `/api/jobs/${job.id}`);
    return { id: job.id, status: job.status, url: `/api/jobs/${job.id}`, eventsUrl: `/api/jobs/${job.id}/events` };
  });

  app.get('/api/jobs/:id', async (req) => jobView(jobOf(req)));

  app.delete('/api/jobs/:id', async (req) => {
    const job = jobOf(req);
    if (job.status === 'done' || job.status === 'failed') throw new HttpError(409, `job is already ${job.status}; only queued or running jobs can be cancelled`);
    const after = await queue.cancel(job.id);
    return jobView(after ?? job);
  });

  const sendPng = async (reply: FastifyReply, file: string, cache: string, filename?: string) => {
    reply.type('image/png').header('cache-control', cache);
    if (filename) reply.header('content-disposition', `inline; filename="${filename}"`);
    return reply.send(fs.createReadStream(file));
  };

  app.get('/api/jobs/:id/result', async (req, reply) => {
    const job = jobOf(req);
    if (job.status !== 'done') throw new HttpError(409, `job is ${job.status}; the result is there when the status is done`);
    const file = await queue.file(job.id, 'result.png');
    if (!file) throw new HttpError(404, 'the result file of this job is missing from the data directory');
    return sendPng(reply, file, 'private, max-age=86400, immutable', `styleloom-${job.id.slice(0, 8)}.png`);
  });

  app.get('/api/jobs/:id/preview.png', async (req, reply) => {
    const job = jobOf(req);
    const file = job.previewIter === undefined ? undefined : await queue.file(job.id, 'preview.png');
    if (!file) throw new HttpError(404, 'no preview yet');
    return sendPng(reply, file, 'no-store');
  });

  app.get('/api/jobs/:id/events', (req, reply) => {
    const job = jobOf(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // one stream per connection: when the stream ends, so does the connection (nothing idles on close)
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    let closed = false;
    let unsubscribe = () => undefined as void;
    let ping: NodeJS.Timeout | undefined;
    const write = (s: string) => {
      if (!closed && !res.destroyed) res.write(s);
    };
    const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      if (ping) clearInterval(ping);
      streams.delete(res);
      res.end();
    };
    streams.add(res);
    res.on('close', end);
    write('retry: 3000\n\n');
    // subscribe first, then send the current state: nothing can happen in between (one thread)
    unsubscribe = queue.on(job.id, (e) => {
      if (e.type === 'progress') send('progress', { iter: e.iter, iters: e.iters, loss: e.loss });
      else if (e.type === 'preview') send('preview', { iter: e.iter, url: e.url });
      else {
        send('state', e.job);
        if (isFinal(e.job.status)) end();
      }
    });
    send('state', jobView(job));
    if (isFinal(job.status)) return end();
    if (job.previewIter !== undefined) send('preview', { iter: job.previewIter, url: `/api/jobs/${job.id}/preview.png?iter=${job.previewIter}` });
    ping = setInterval(() => write(': ping\n\n'), pingMs);
  });

  registerSamples(app, options.samplesDir ?? defaultSamplesDir());

  const webDir = options.webDir ?? path.join(PACKAGE_ROOT, 'web', 'dist');
  if (fs.existsSync(path.join(webDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: path.resolve(webDir), prefix: '/', index: ['index.html'], dotfiles: 'deny' });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
  }

  app.addHook('preClose', async () => {
    for (const res of [...streams]) res.end();
    streams.clear();
  });

  // app.close() alone also stops the queue and releases the sessions; close() stops the jobs first
  app.addHook('onClose', async () => {
    await queue.close();
    await runner.close();
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await queue.close();
      // requests in flight get a second; then every connection goes (idle ones at once, as fastify does)
      const force = setTimeout(() => app.server.closeAllConnections?.(), 1000);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
    })());

  return { app, queue, dataDir, routes, close };
}
