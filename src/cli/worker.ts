// `styleloom worker`: runs jobs of the Redis queue (`styleloom serve --redis`) on this machine, until
// SIGTERM or Ctrl-C, which drain: the running jobs finish, no new one starts.
import path from 'node:path';
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import { rowOf } from '../options/table.js';
import { forJob } from '../options/names.js';
import { defaultDataDir } from '../server/jobs.js';
import { checkRedisUrl, redactUrl } from '../server/redis/url.js';
import { oneLineErrors, optionFor } from './flags.js';
import { integer, number } from './parse.js';

interface WorkerFlags {
  redis: string;
  concurrency: number;
  dataDir?: string;
  weights?: string;
  fastModels?: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  attempts: number;
  lockSeconds: number;
}

async function runWorker(f: WorkerFlags, signal: AbortSignal): Promise<void> {
  checkRedisUrl(f.redis);
  if (f.concurrency < 1) throw new StyleloomError('E_USAGE', `--concurrency must be at least 1, got ${f.concurrency}`);
  if (f.attempts < 1) throw new StyleloomError('E_USAGE', `--attempts must be at least 1, got ${f.attempts}`);
  if (!(f.lockSeconds >= 0.5)) throw new StyleloomError('E_USAGE', `--lock-seconds must be at least 0.5, got ${f.lockSeconds}`);
  if (f.threads !== undefined && f.threads < 1) throw new StyleloomError('E_USAGE', `--threads must be at least 1, got ${f.threads}`);
  const log = (line: string) => process.stderr.write(`styleloom: ${line}\n`);
  // the server modules (bullmq, onnxruntime sessions) only for this command
  const { describeVgg, defaultFastModelsDir, listFastModels } = await import('../server/models.js');
  const { createDefaultRunner } = await import('../server/runner.js');
  const { startRedisWorker } = await import('../server/redis/worker.js');
  const { defaultThreads } = await import('../runtime/session.js');
  const { vgg } = await describeVgg(f.weights);
  const fastDir = f.fastModels ?? defaultFastModelsDir();
  let fast = await listFastModels(fastDir);
  const runner = createDefaultRunner({
    weights: vgg?.path,
    threads: f.threads ?? Math.max(1, Math.floor(defaultThreads() / f.concurrency)),
    device: f.device,
    fastModels: () => fast,
  });
  const dataDir = path.resolve(f.dataDir ?? path.join(defaultDataDir(), 'worker'));
  const worker = await startRedisWorker({
    url: f.redis,
    concurrency: f.concurrency,
    dataDir,
    attempts: f.attempts,
    lockMs: Math.round(f.lockSeconds * 1000),
    runner: async (ctx) => {
      if (ctx.job.mode === 'fast') fast = await listFastModels(fastDir); // networks added since the start
      return runner.run(ctx);
    },
    log,
  });
  log(`worker ${worker.name} taking jobs from ${redactUrl(f.redis)} (${f.concurrency} at a time, data ${dataDir}${vgg ? '' : ', no VGG-19 weights: fast jobs only'}); SIGTERM or Ctrl-C drains and stops`);
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
  log(`draining: ${worker.running()} running job${worker.running() === 1 ? '' : 's'} finish${worker.running() === 1 ? 'es' : ''} first`);
  await worker.close();
  await runner.close();
  log('stopped');
}

/** Registers `styleloom worker` on the program. */
export function addWorkerCommand(program: Command, signal: AbortSignal): Command {
  const cmd = program
    .command('worker')
    .description('Run jobs of a Redis queue (styleloom serve --redis) on this machine; any number of workers on any machines.')
    .requiredOption('--redis <url>', 'the Redis of the API nodes (redis://host:port)')
    .option('--concurrency <n>', 'jobs run at the same time', integer, 1)
    .option('--data-dir <dir>', `local folder for the inputs of running jobs (default ${path.join(defaultDataDir(), 'worker')})`)
    .option('--weights <file>', 'VGG-19 safetensors (default: $STYLELOOM_WEIGHTS, then the cache)')
    .option('--fast-models <dir>', 'folder of fast-style networks (the same names as on the API nodes)')
    .option('--threads <n>', 'CPU threads per job (default: cores / concurrency)', integer)
    .addOption(optionFor(forJob(rowOf('device'), 'image')))
    .option('--attempts <n>', 'runs of a job before it fails (as on the API nodes)', integer, 3)
    .option('--lock-seconds <s>', 'a worker silent this long is taken as dead and its job goes to another', number, 30)
    .action(async (flags: WorkerFlags) => runWorker(flags, signal));
  return oneLineErrors(cmd, 'styleloom worker --help');
}
