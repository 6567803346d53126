// `styleloom serve`: the HTTP service (src/server/app.ts) on a port, until Ctrl-C / SIGTERM; running
// jobs are stopped and stay queued on disk for the next start.
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import { defaultDataDir, isFinal } from '../server/jobs.js';
import { rowOf } from '../options/table.js';
import { forJob } from '../options/names.js';
import { oneLineErrors, optionFor } from './flags.js';
import { duration, integer, number } from './parse.js';
import { hostsForListen, serveToken } from '../server/security.js';
import { checkRedisUrl, redactUrl } from '../server/redis/url.js';

interface ServeFlags {
  port: number;
  host: string;
  dataDir?: string;
  concurrency: number;
  maxQueue: number;
  maxUploadMb: number;
  maxSize: number;
  maxIters: number;
  maxDuration: number;
  maxVideoSeconds: number;
  maxVideoPixels: number;
  cors?: boolean;
  weights?: string;
  fastModels?: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  webDir?: string;
  token?: string;
  allowHost?: string[];
  keepJobs: number;
  redis?: string;
  workers?: number;
  attempts: number;
  maxAge?: number;
  maxDiskMb?: number;
  maxUploads: number;
}

async function runServe(f: ServeFlags, signal: AbortSignal): Promise<void> {
  if (f.port < 0 || f.port > 65535) throw new StyleloomError('E_USAGE', `--port must be from 0 to 65535, got ${f.port}`);
  if (f.concurrency < 1) throw new StyleloomError('E_USAGE', `--concurrency must be at least 1, got ${f.concurrency}`);
  if (f.maxQueue < 1) throw new StyleloomError('E_USAGE', `--max-queue must be at least 1, got ${f.maxQueue}`);
  if (!(f.maxUploadMb > 0)) throw new StyleloomError('E_USAGE', `--max-upload-mb must be > 0, got ${f.maxUploadMb}`);
  if (f.maxSize < 16) throw new StyleloomError('E_USAGE', `--max-size must be at least 16, got ${f.maxSize}`);
  if (f.maxIters < 1) throw new StyleloomError('E_USAGE', `--max-iters must be at least 1, got ${f.maxIters}`);
  if (!(f.maxDuration > 0)) throw new StyleloomError('E_USAGE', `--max-duration must be > 0 seconds, got ${f.maxDuration}`);
  if (!(f.maxVideoSeconds > 0)) throw new StyleloomError('E_USAGE', `--max-video-seconds must be > 0 seconds, got ${f.maxVideoSeconds}`);
  if (f.maxVideoPixels < 1) throw new StyleloomError('E_USAGE', `--max-video-pixels must be at least 1, got ${f.maxVideoPixels}`);
  if (f.workers !== undefined && !f.redis) throw new StyleloomError('E_USAGE', '--workers is for --redis (without it, --concurrency says how many jobs run)');
  if (f.workers !== undefined && f.workers < 0) throw new StyleloomError('E_USAGE', `--workers must be 0 (an API node only) or more, got ${f.workers}`);
  if (f.attempts < 1) throw new StyleloomError('E_USAGE', `--attempts must be at least 1, got ${f.attempts}`);
  if (f.redis) checkRedisUrl(f.redis);
  if (f.keepJobs < 0) throw new StyleloomError('E_USAGE', `--keep-jobs must be 0 (no limit) or more, got ${f.keepJobs}`);
  if (f.maxDiskMb !== undefined && !(f.maxDiskMb > 0)) throw new StyleloomError('E_USAGE', `--max-disk-mb must be > 0, got ${f.maxDiskMb}`);
  if (f.maxUploads < 1) throw new StyleloomError('E_USAGE', `--max-uploads must be at least 1, got ${f.maxUploads}`);
  if (f.threads !== undefined && f.threads < 1) throw new StyleloomError('E_USAGE', `--threads must be at least 1, got ${f.threads}`);
  const log = (line: string) => process.stderr.write(`styleloom: ${line}\n`);
  // beyond this machine only with a token: without one, one is made for this run and printed once below
  const { token, generated } = serveToken(f.host, f.token);
  const { createServer } = await import('../server/app.js'); // fastify only for this command
  const server = await createServer({
    dataDir: f.dataDir,
    concurrency: f.concurrency,
    maxQueue: f.maxQueue,
    maxUploadMb: f.maxUploadMb,
    maxSize: f.maxSize,
    maxIters: f.maxIters,
    maxAudioSeconds: f.maxDuration,
    maxVideoSeconds: f.maxVideoSeconds,
    maxVideoPixels: f.maxVideoPixels,
    cors: Boolean(f.cors),
    weights: f.weights,
    fastModelsDir: f.fastModels,
    threads: f.threads,
    device: f.device,
    webDir: f.webDir,
    token,
    redis: f.redis,
    workers: f.workers,
    attempts: f.attempts,
    keepJobs: f.keepJobs,
    maxAgeSeconds: f.maxAge,
    maxDiskMb: f.maxDiskMb,
    maxUploads: f.maxUploads,
    allowedHosts: [...hostsForListen(f.host), ...(f.allowHost ?? [])],
    log,
  });
  server.queue.on('*', (e) => {
    if (e.type === 'state' && isFinal(e.job.status)) log(`job ${e.id} ${e.job.status}${e.job.error ? `: ${e.job.error}` : ''}`);
  });
  let address: string;
  try {
    address = await server.app.listen({ port: f.port, host: f.host });
  } catch (e) {
    await server.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StyleloomError('E_USAGE', `port ${f.port} on ${f.host} is in use; pick another with --port`);
    if (code === 'EACCES') throw new StyleloomError('E_USAGE', `no permission to listen on ${f.host}:${f.port}; use a port above 1023`);
    throw new StyleloomError('E_USAGE', `cannot listen on ${f.host}:${f.port} (${(e as Error).message})`);
  }
  const stats = await server.queue.stats();
  // before the "serving on" line, which callers wait for
  if (generated) log(`no --token or $STYLELOOM_TOKEN given, so this run made one; token: ${token} (clients send Authorization: Bearer <token>; the page: open /?token=<token> once)`);
  else if (token) log('the API needs the token (Authorization: Bearer <token>; the page: open /?token=<token> once)');
  if (f.cors && !token) log('warning: --cors without a token: any web page can submit jobs to this server');
  const where = f.redis ? `queue in Redis ${redactUrl(f.redis)}, ${stats.concurrency} job${stats.concurrency === 1 ? '' : 's'} at a time here` : `data ${server.dataDir}, concurrency ${stats.concurrency}`;
  log(`serving on ${address} (${where}, ${stats.queued} queued job${stats.queued === 1 ? '' : 's'}${f.cors ? ', CORS on' : ''}); Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      signal.removeEventListener('abort', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', stop);
    process.on('SIGTERM', stop);
  });
  log(f.redis ? 'stopping (the jobs running here finish first)' : 'stopping (running jobs stay queued for the next start)');
  await server.close();
}

/** Registers `styleloom serve` on the program. */
export function addServeCommand(program: Command, signal: AbortSignal): Command {
  const cmd = program
    .command('serve')
    .description('HTTP service: submit style-transfer jobs, follow them (SSE), fetch results; OpenAPI at /api/openapi.json.')
    .option('--port <n>', 'TCP port (0 = any free port)', integer, 8080)
    .option('--host <addr>', 'address to listen on (127.0.0.1 = this machine only)', '127.0.0.1')
    .option('--data-dir <dir>', `where jobs, uploads and results are kept (default $STYLELOOM_DATA, else ${defaultDataDir()})`)
    .option('--concurrency <n>', 'jobs run at the same time', integer, 1)
    .option('--max-queue <n>', 'jobs waiting before new ones get 429', integer, 20)
    .option('--max-upload-mb <mb>', 'largest upload per request (413 beyond)', number, 25)
    .option('--max-size <px>', 'largest size a job may ask for', integer, 1024)
    .option('--max-iters <n>', 'largest iters × scales of a job', integer, 2000)
    .option('--max-duration <s>', 'longest sound a mode=audio job may upload or make, seconds', number, 60)
    .option('--max-video-seconds <s>', 'longest part of a clip a mode=video job may stylise, seconds', number, 30)
    .option('--max-video-pixels <n>', 'largest frame of a mode=video upload, width × height (1920x1080 = 2073600)', integer, 1920 * 1080)
    .option('--redis <url>', 'put jobs on a BullMQ queue in this Redis (redis://host:port) for `styleloom worker`s on any machine (default: the embedded queue on disk)')
    .option('--workers <n>', 'with --redis: jobs this process runs itself (default: --concurrency; 0 = an API node only)', integer)
    .option('--attempts <n>', 'with --redis: runs of a job before it fails (a worker that dies mid-job costs one)', integer, 3)
    .option('--max-uploads <n>', 'uploads read at the same time (503 beyond)', integer, 8)
    .option('--keep-jobs <n>', 'finished jobs kept, the newest (older ones deleted with their files; 0 = all)', integer, 1000)
    .option('--max-age <duration>', 'delete finished jobs this long after they finished (90s, 30m, 12h, 7d; default: never)', duration)
    .option('--max-disk-mb <mb>', 'disk quota of the stored jobs (507 beyond; default: none)', number)
    .option('--cors', 'allow browsers on other origins (Access-Control-Allow-Origin: *)')
    .option('--weights <file>', 'VGG-19 safetensors (default: $STYLELOOM_WEIGHTS, then the cache)')
    .option('--fast-models <dir>', 'folder of fast-style networks (default: $STYLELOOM_FAST_MODELS, else ../shared/assets/fast-style)')
    .option('--threads <n>', 'CPU threads per job (default: cores / concurrency)', integer)
    .addOption(optionFor(forJob(rowOf('device'), 'image')))
    .option('--token <token>', 'every /api route but health needs it: Authorization: Bearer <token> (default $STYLELOOM_TOKEN; made and printed when --host is not loopback)')
    .option('--allow-host <name>', 'a host name clients use to reach this server (DNS name, proxy); repeat for more; loopback names always work', (v: string, prev: string[] = []) => [...prev, v])
    .option('--web-dir <dir>', 'static files of the web page (default: web/dist of the package, when built)')
    .action(async (flags: ServeFlags) => runServe(flags, signal));
  return oneLineErrors(cmd, 'styleloom serve --help');
}
