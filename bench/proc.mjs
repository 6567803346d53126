// Child processes for the bench: every one runs with a timeout (its whole process group is killed),
// its wall time is taken from spawn to exit, and its peak resident memory is measured — with GNU
// time's %M (max RSS of the child, from wait4) when /usr/bin/time is there, else by polling VmHWM
// in /proc/<pid>/status.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';
const live = new Set();

/** Kills every child still running (used by the bench's watchdog and on exit). */
export function killAll() {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function hasGnuTime() {
  if (!fs.existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /^\d+\s*$/.test(r.stderr.trim().split('\n').pop() ?? '');
}

/** Runs a short command synchronously with a timeout; returns { ok, status, stdout, stderr }. */
export function runSync(cmd, args, { timeoutMs = 60_000, env } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: env ?? process.env, maxBuffer: 64 << 20 });
  return { ok: r.status === 0, status: r.status, signal: r.signal, error: r.error?.message, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** [busy, total] CPU time of the whole machine in seconds (from /proc/stat; USER_HZ = 100). */
export function cpuTimes() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = f[3] + (f[4] ?? 0);
    return [(total - idle) / 100, total / 100];
  } catch {
    return null;
  }
}

function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs `cmd args` as a child with a timeout. Resolves (never rejects) to
 * { code, signal, timedOut, wallMs, maxRssKb, rssMethod, stdout, stderr }.
 * `onLine(line, msSinceSpawn)` is called for every stdout line as it arrives.
 */
export function runChild(cmd, args, { timeoutMs, cwd, env, onLine, useGnuTime = true } = {}) {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `styleloom-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.rss`);
    const viaTime = useGnuTime && fs.existsSync(GNU_TIME);
    const [c, a] = viaTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
    const cpu0 = cpuTimes();
    const t0 = performance.now();
    // detached: the child leads its own process group, so a timeout kills it and anything it started
    const child = spawn(c, a, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let pending = '';
    let polledKb = 0;
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      const at = performance.now() - t0;
      stdout += d;
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onLine?.(line, at);
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    const poll = viaTime
      ? null
      : setInterval(() => {
          polledKb = Math.max(polledKb, vmHwmKb(child.pid));
        }, 50);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    let done = false;
    const finish = (code, signal, err) => {
      if (done) return;
      done = true;
      const wallMs = performance.now() - t0;
      const cpu1 = cpuTimes();
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      live.delete(child);
      let maxRssKb = polledKb || null;
      let childCpuS = null;
      if (viaTime) {
        try {
          const m = /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(fs.readFileSync(timeFile, 'utf8').trim());
          maxRssKb = m ? Number(m[1]) : null;
          childCpuS = m ? Number(m[2]) + Number(m[3]) : null;
        } catch {
          maxRssKb = null;
        }
        fs.rmSync(timeFile, { force: true });
      }
      // CPU used by everything else on the machine while the child ran, in cores (0 = it had the machine)
      const otherCores = cpu0 && cpu1 && childCpuS != null && wallMs > 0 ? Math.max(0, (cpu1[0] - cpu0[0] - childCpuS) / (wallMs / 1e3)) : null;
      if (pending) onLine?.(pending, wallMs);
      resolve({ code, signal, timedOut, error: err?.message, wallMs, maxRssKb, childCpuS, otherCores, rssMethod: viaTime ? 'GNU time %M' : 'VmHWM poll (50 ms)', stdout, stderr });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** The last line of stdout that parses as a JSON object, or null. */
export function lastJson(stdout) {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l);
    } catch {
      /* not JSON */
    }
  }
  return null;
}
