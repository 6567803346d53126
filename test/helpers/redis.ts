// Test helper for the Redis backend: installs redis-server when missing (scripts/install-redis.sh, as
// the web test does for chromium), starts a private instance on a free 127.0.0.1 port with its own
// temp dir (append-only file on, so that a restart loses nothing), restarts and stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './fixtures.js';
import { tempDir } from './cli.js';

/** Runs scripts/install-redis.sh once; throws with its output when redis-server cannot be had. */
export function ensureRedisServer(): string {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const r = spawnSync('sh', [path.join(ROOT, 'scripts', 'install-redis.sh')], { encoding: 'utf8', timeout: 10 * 60_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
  const again = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (r.status !== 0 || again.status !== 0) {
    throw new Error(`the Redis tests need redis-server, and scripts/install-redis.sh could not install it (exit ${r.status ?? r.signal}). Install it by hand (sudo apt-get install redis-server) and run again.\n${out}`);
  }
  return again.stdout.trim();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** SIGTERM (Redis writes its files), then the same port and dir again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function waitForPort(port: number, ms: number): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.end('PING\r\n');
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - t0 > ms) reject(new Error(`redis-server did not listen on ${port} within ${ms} ms`));
        else setTimeout(attempt, 30);
      });
    };
    attempt();
  });
}

/** Starts a private redis-server (no persistence beyond its temp dir; append-only file, fsync always). */
export async function startRedis(): Promise<PrivateRedis> {
  const bin = ensureRedisServer();
  const port = await freePort();
  const dir = tempDir('styleloom-redis-');
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
    child = spawn(bin, args, { stdio: 'ignore' });
    const killer = () => child?.kill('SIGKILL');
    process.once('exit', killer);
    child.once('exit', () => process.off('exit', killer));
    await waitForPort(port, 10_000);
  };
  const stopNow = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    restart: async () => {
      await stopNow();
      if (!fs.existsSync(path.join(dir, 'appendonlydir'))) throw new Error('redis wrote no append-only file');
      await launch();
    },
    stop: stopNow,
  };
}
