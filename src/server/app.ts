// The HTTP service of styleloom (fastify): submit style-transfer jobs with multipart uploads, follow
// them by polling or Server-Sent Events, fetch the result PNG, cancel, list; plus health, models and
// an OpenAPI document. createServer() is the library entry; `styleloom serve` wraps it. It resolves
// the options, builds the queue and the app-wide hooks, and registers the route modules (routes/*.ts,
// samples.ts), which share one ServerContext.
import fs from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { StyleloomError } from '../errors.js';
import { defaultThreads } from '../runtime/session.js';
import type { DeviceKind } from '../runtime/device.js';
import type { ServerContext, ServerLimits, ServerModels } from './context.js';
import { DiskJobStore } from './disk-store.js';
import { defaultDataDir, oneLine } from './jobs.js';
import { LocalJobQueue } from './local-queue.js';
import { defaultFastModelsDir, describeVgg, listFastModels, PACKAGE_ROOT, type FastModelInfo } from './models.js';
import { apiMessage, HttpError } from './params.js';
import { QueueClosedError, QueueFullError, type JobQueue, type JobRunner } from './queue.js';
import { registerSecurity } from './security.js';
import { startRetention } from './retention.js';
import { ClientAbortError } from './upload-reader.js';
import { registerEventRoutes } from './routes/events.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerMetaRoutes, registerWebPage } from './routes/static.js';
import { multipartLimits, registerSubmitRoute } from './routes/submit.js';
import { registerWeightsRoute } from './routes/weights.js';
import { createDefaultRunner } from './runner.js';
import { defaultSamplesDir, registerSamples } from './samples.js';
import { ISOLATION_HEADERS } from './isolation.js';

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
  /** Longest sound a mode=audio job may upload or ask for (texture), seconds (default 60). */
  maxAudioSeconds?: number;
  /** Longest part of a clip a mode=video job may stylise, seconds (default 30). */
  maxVideoSeconds?: number;
  /** Largest frame of an uploaded clip, width × height in pixels (default 1920 × 1080 = 2073600). */
  maxVideoPixels?: number;
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
  /** Jobs go on a BullMQ queue in this Redis (redis://host:port) instead of the embedded queue; API nodes and workers share nothing else. */
  redis?: string;
  /** Key prefix in Redis (default styleloom). */
  redisPrefix?: string;
  /** With redis: jobs this process runs itself at the same time (default: concurrency; 0 = an API node only). */
  workers?: number;
  /** With redis: runs of a job before it fails (errors and stalled workers together; default 3). */
  attempts?: number;
  /** With redis: the lock of a running job in ms; a worker silent this long is taken as dead (default 30000). */
  lockMs?: number;
  /** Most finished jobs kept (the newest; older ones are deleted with their files; default 1000; 0 = no limit). */
  keepJobs?: number;
  /** Finished jobs are deleted this many seconds after they finished (default: never). */
  maxAgeSeconds?: number;
  /** Disk quota of the stored jobs in MB: uploads beyond it get 507 (default: none). */
  maxDiskMb?: number;
  /** Most uploads read at the same time; more get 503 with Retry-After (default 8). */
  maxUploads?: number;
  /** A request body that sends nothing for this many milliseconds is answered 408 and cut (default 60000). */
  bodyTimeoutMs?: number;
  /** Seconds between SSE keep-alive comments (default 15). */
  ssePingSeconds?: number;
  /** Every /api route but health and the OpenAPI document needs it (Authorization: Bearer, or the page's cookie from /?token=). */
  token?: string;
  /** Host names the server answers to besides the loopback names (DNS rebinding check); ['*'] turns the check off. */
  allowedHosts?: string[];
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
  const maxSize = positiveInt('max size', options.maxSize ?? 1024, 16);
  const maxIters = positiveInt('max iters', options.maxIters ?? 2000);
  const maxAudioSeconds = options.maxAudioSeconds ?? 60;
  if (!(maxAudioSeconds > 0) || !Number.isFinite(maxAudioSeconds)) throw new StyleloomError('E_USAGE', `max audio seconds must be a number > 0, got ${String(maxAudioSeconds)}`);
  const maxVideoSeconds = options.maxVideoSeconds ?? 30;
  if (!(maxVideoSeconds > 0) || !Number.isFinite(maxVideoSeconds)) throw new StyleloomError('E_USAGE', `max video seconds must be a number > 0, got ${String(maxVideoSeconds)}`);
  const maxVideoPixels = positiveInt('max video pixels', options.maxVideoPixels ?? 1920 * 1080);
  const maxUploads = positiveInt('max uploads', options.maxUploads ?? 8);
  const bodyTimeoutMs = positiveInt('body timeout', options.bodyTimeoutMs ?? 60_000);
  const limits: ServerLimits = { maxSize, maxIters, maxAudioSeconds, maxVideoSeconds, maxVideoPixels, maxUploadMb, maxBytes, maxPixels, maxStyles, maxUploads, bodyTimeoutMs };
  // uploads stream into the data directory (so that a job's files are moved, not copied); left-overs of a crash go
  const uploadDir = path.join(dataDir, '.uploads');
  await fs.rm(uploadDir, { recursive: true, force: true });
  await fs.mkdir(uploadDir, { recursive: true });
  const log = options.log ?? (() => undefined);
  const pingMs = (options.ssePingSeconds ?? 15) * 1000;

  const { vgg, error: vggError } = await describeVgg(options.weights);
  const fastDir = options.fastModelsDir ?? defaultFastModelsDir();
  let fastModels: FastModelInfo[] = await listFastModels(fastDir);
  const models: ServerModels = {
    vgg,
    vggError,
    fastDir,
    fast: () => fastModels,
    refresh: async () => (fastModels = await listFastModels(fastDir)),
  };

  const runner = options.runner
    ? { run: options.runner, close: async () => undefined }
    : createDefaultRunner({
        weights: vgg?.path,
        threads: options.threads ?? Math.max(1, Math.floor(defaultThreads() / concurrency)),
        device: options.device,
        previewEvery: options.previewEvery,
        fastModels: models.fast,
      });
  const queue: JobQueue = options.redis
    ? await (await import('./redis/queue.js')).RedisJobQueue.create({
        url: options.redis,
        prefix: options.redisPrefix,
        workers: options.workers ?? concurrency,
        runner: runner.run,
        dataDir: path.join(dataDir, 'work'),
        maxQueue,
        attempts: options.attempts,
        lockMs: options.lockMs,
        paused: options.paused,
        log,
      })
    : await LocalJobQueue.create({
        store: new DiskJobStore(dataDir),
        runner: runner.run,
        concurrency,
        maxQueue,
        paused: options.paused,
        onError: (job, err) => log(`job ${job.id} failed: ${job.error ?? (err instanceof Error ? err.message : String(err))}`),
      });
  const keepJobs = options.keepJobs ?? 1000;
  if (!Number.isInteger(keepJobs) || keepJobs < 0) throw new StyleloomError('E_USAGE', `keep jobs must be a whole number >= 0, got ${keepJobs}`);
  const maxAge = options.maxAgeSeconds;
  if (maxAge !== undefined && !(maxAge > 0 && Number.isFinite(maxAge))) throw new StyleloomError('E_USAGE', `max age must be a number of seconds > 0, got ${maxAge}`);
  const maxDiskMb = options.maxDiskMb;
  if (maxDiskMb !== undefined && !(maxDiskMb > 0 && Number.isFinite(maxDiskMb))) throw new StyleloomError('E_USAGE', `max disk must be a number of MB > 0, got ${maxDiskMb}`);
  const retention = startRetention(queue, { keepJobs: keepJobs || undefined, maxAgeMs: maxAge === undefined ? undefined : maxAge * 1000, log });
  const ctx: ServerContext = { queue, log, uploadDir, limits, models, quotaBytes: maxDiskMb === undefined ? undefined : Math.floor(maxDiskMb * MB) };

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1 * MB });
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD' && m !== 'OPTIONS') routes.push(`${m} ${r.url}`);
  });

  registerSecurity(app, { token: options.token || undefined, allowedHosts: options.allowedHosts ?? [], cors: Boolean(options.cors) });
  await app.register(multipart, { limits: multipartLimits(limits) });

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // cross-origin isolation, so that the page's on-this-device mode gets WebAssembly threads (SharedArrayBuffer)
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) reply.header(k, v);
    reply.header('cross-origin-resource-policy', options.cors ? 'cross-origin' : 'same-origin');
    if (options.cors) {
      reply.header('access-control-allow-origin', '*');
      reply.header('access-control-expose-headers', 'Location');
    }
  });
  if (options.cors) {
    app.options('/*', async (_req, reply) => {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header('access-control-allow-headers', 'Content-Type, Authorization')
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
    else if (err instanceof StyleloomError && (err.code === 'E_USAGE' || err.code === 'E_INPUT')) [status, message] = [400, apiMessage(err)];
    else if (err instanceof ClientAbortError) {
      log(`${req.method} ${oneLine(req.url, 120)}: ${err.message}`);
      return reply.raw.headersSent ? undefined : reply.code(400).send({ error: err.message });
    } else if (e?.code === 'FST_REQ_FILE_TOO_LARGE') [status, message] = [413, `upload too large: at most ${maxUploadMb} MB per request`];
    else if (e?.code === 'FST_FILES_LIMIT') [status, message] = [413, `too many files: one "content" and at most ${maxStyles} "style" files`];
    else if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) [status, message] = [e.statusCode, e.message ?? 'bad request'];
    if (status >= 500) log(`internal error on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void reply.code(status).type('application/json; charset=utf-8').send({ error: oneLine(message) });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `not found: ${req.method} ${oneLine(req.url, 120)}` });
  });

  registerMetaRoutes(app, ctx);
  registerWeightsRoute(app, ctx);
  registerJobRoutes(app, ctx);
  registerSubmitRoute(app, ctx);
  registerEventRoutes(app, ctx, { pingMs });
  registerSamples(app, options.samplesDir ?? defaultSamplesDir());
  await registerWebPage(app, options.webDir ?? path.join(PACKAGE_ROOT, 'web', 'dist'), path.join(PACKAGE_ROOT, 'dist', 'browser'));

  // app.close() alone also stops the queue and releases the sessions; close() stops the jobs first
  app.addHook('onClose', async () => {
    retention.stop();
    await queue.close();
    await runner.close();
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      retention.stop();
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
