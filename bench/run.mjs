#!/usr/bin/env node
// styleloom against the PyTorch peer (../shared/peers/pytorch_gatys.py), side by side on the same
// images, weights, layers, optimiser and thread count. Not part of `npm test`.
//
//   npm run bench                 256/512/1024 px Adam timings, FLOPs and % of measured peak, peak RSS,
//                                 L-BFGS time-to-quality at 512 px; writes bench/results/latest.json and
//                                 bench/results/ms-per-iter.png
//   npm run bench -- --quick      256 px only (< 60 s); the last stdout line is `ratio=<peer/ours>`
//
// Options: --sizes 256,512   --reps N (runs per system and size; the median of their ms/iter)
//          --no-peer   --no-ttq   --ttq-max-iters N   --ttq-size PX   --ttq-peer-iters N   --threads N
//          --ttq-no-wolfe (time to quality without the second styleloom run, with --line-search strong-wolfe)
//          --iters N (every size)   --wait-idle S (first wait up to S seconds for the other load to drop)
//          --retry-noisy N (rerun a timing run up to N times while other processes used > 0.25 cores during
//          it, keeping the least disturbed; default 2, 1 with --quick)
//
// Every child process runs under a timeout, and a watchdog ends the whole bench if it overruns.
// Progress goes to stderr; the table (and, with --quick, the ratio line) to stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cpuTimes, killAll, hasGnuTime, lastJson, runChild, runSync } from './proc.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const SHARED = path.resolve(REPO, '..', 'shared');
const PY = '/usr/bin/python3';
const PEER = path.join(SHARED, 'peers', 'pytorch_gatys.py');
const CONTENT = path.join(SHARED, 'assets', 'images', 'chelsea.png');
const STYLE = path.join(SHARED, 'assets', 'images', 'starry_night.jpg');
const WEIGHTS = path.join(SHARED, 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const CONTENT_LAYERS = ['conv3_2'];
const STYLE_LAYERS = ['conv1_1', 'conv2_1', 'conv3_1'];
const RESULTS_DIR = path.join(HERE, 'results');

// ---------- arguments ----------
const argv = process.argv.slice(2);
const flag = (k) => argv.includes(k);
const opt = (k, d) => {
  const i = argv.indexOf(k);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : d;
};
const QUICK = flag('--quick');
const THREADS = Number(opt('--threads', '2'));
const SIZES = opt('--sizes', QUICK ? '256' : '256,512,1024').split(',').map(Number);
const REPS = Math.max(1, Number(opt('--reps', '1')));
const ITERS = (size) => Number(opt('--iters', size >= 1024 ? '6' : '10'));
const WITH_PEER = !flag('--no-peer');
const WAIT_IDLE_S = Number(opt('--wait-idle', '0'));
const RETRY_NOISY = Number(opt('--retry-noisy', QUICK ? '1' : '2'));
const NOISY_CORES = 0.25; // other processes' CPU use during a run, in cores, above which the run counts as disturbed
const WITH_TTQ = !QUICK && !flag('--no-ttq');
const TTQ_SIZE = Number(opt('--ttq-size', '512'));
const TTQ_PEER_ITERS = Number(opt('--ttq-peer-iters', '100'));
const TTQ_MAX_ITERS = Number(opt('--ttq-max-iters', '300'));
const TTQ_WOLFE = !flag('--ttq-no-wolfe');
if (flag('--help') || flag('-h')) {
  const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  process.stdout.write(`${header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
for (const s of SIZES) if (!Number.isInteger(s) || s < 16) die(`bad --sizes entry ${s}`);

// Child time limits (ms): generous against the expected times, so a stuck run cannot hang the bench.
const RUN_TIMEOUT = (size) => (QUICK ? 40_000 : size >= 1024 ? 600_000 : size >= 512 ? 240_000 : 120_000);
const PEAK_RUNS = QUICK ? 5 : 10;
const WATCHDOG_MS = QUICK ? 60_000 : 60 * 60_000;

const log = (s) => process.stderr.write(`bench: ${s}\n`);
function die(msg, code = 2) {
  process.stderr.write(`bench: ${msg}\n`);
  killAll();
  process.exit(code);
}
process.on('SIGINT', () => die('interrupted', 130));
process.on('SIGTERM', () => die('terminated', 143));

const busy = (r) => (r.other_cores > NOISY_CORES ? `; WARNING: other processes used ${r.other_cores.toFixed(2)} cores meanwhile` : '');
const loadavg = () => os.loadavg().map((x) => round(x, 2));
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const tail = (s, n = 600) => (s.length > n ? `...${s.slice(-n)}` : s).trim();
const round = (x, d = 3) => (x == null || !Number.isFinite(x) ? null : Number(x.toFixed(d)));
const sig = (x, d = 6) => (x == null || !Number.isFinite(x) ? null : Number(x.toPrecision(d)));

// ---------- set-up: dist, GNU time, the peer's Python packages ----------
function ensureDist() {
  const need = ['cli/main.js', 'index.js', 'loss/gatys.js', 'model/vgg19.js'].map((p) => path.join(REPO, 'dist', 'src', p));
  if (need.every((p) => fs.existsSync(p))) return;
  log('dist/ is missing: compiling with npx tsc -p tsconfig.json');
  const r = runSync('npx', ['tsc', '-p', 'tsconfig.json'], { timeoutMs: 300_000 });
  if (!r.ok || !need.every((p) => fs.existsSync(p))) die(`tsc failed: ${tail(r.stdout + r.stderr)}`, 1);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = (() => {
  if (isRoot) return [];
  return runSync('sudo', ['-n', 'true'], { timeoutMs: 10_000 }).ok ? ['sudo', '-n'] : null;
})();
function asRoot(cmd, args, timeoutMs) {
  if (!sudo) return { ok: false, stderr: 'not root and no passwordless sudo' };
  const [c, a] = sudo.length ? [sudo[0], [...sudo.slice(1), cmd, ...args]] : [cmd, args];
  return runSync(c, a, { timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
let aptUpdated = false;
function aptInstall(pkgs, timeoutMs = 1_200_000) {
  if (!aptUpdated) {
    log('apt-get update');
    const u = asRoot('apt-get', ['update'], 300_000);
    if (!u.ok) return u;
    aptUpdated = true;
  }
  log(`apt-get install -y ${pkgs.join(' ')}`);
  return asRoot('apt-get', ['install', '-y', ...pkgs], timeoutMs);
}

function ensureGnuTime() {
  if (hasGnuTime()) return true;
  log('/usr/bin/time (Debian package `time`) is missing: installing it for max-RSS measurement');
  const r = aptInstall(['time'], 300_000);
  if (r.ok && hasGnuTime()) return true;
  log(`could not install it (${tail(r.stderr ?? '', 200)}); measuring peak RSS by polling /proc/<pid>/status VmHWM instead`);
  return false;
}

const PEER_CHECK = ['-c', 'import torch, numpy, PIL; print(torch.__version__)'];
const BLAS_ALTS = ['libblas.so.3', 'liblapack.so.3', 'libopenblas.so.0'];

/** The alternatives of RESULTS.md: make the OpenMP OpenBLAS the one torch loads. */
function setOpenblasOpenmp() {
  const changed = [];
  for (const alt of BLAS_ALTS) {
    const a = `${alt}-x86_64-linux-gnu`;
    const q = runSync('update-alternatives', ['--query', a], { timeoutMs: 10_000 });
    if (!q.ok) continue;
    const value = /^Value:\s*(.*)$/m.exec(q.stdout)?.[1] ?? '';
    const want = runSync('update-alternatives', ['--list', a], { timeoutMs: 10_000 }).stdout.split('\n').find((l) => l.includes('openblas-openmp'));
    if (!want || value === want) continue;
    const r = asRoot('update-alternatives', ['--set', a, want], 30_000);
    changed.push(`${a} -> ${want}${r.ok ? '' : ` (failed: ${tail(r.stderr, 120)})`}`);
  }
  if (changed.length) log(`update-alternatives: ${changed.join('; ')}`);
}

function ensurePeer() {
  if (!WITH_PEER) return { ok: false, reason: '--no-peer given' };
  if (!fs.existsSync(PEER)) return { ok: false, reason: `${PEER} not found` };
  let r = fs.existsSync(PY) ? runSync(PY, PEER_CHECK, { timeoutMs: 120_000 }) : { ok: false, stderr: `${PY} not found` };
  if (!r.ok) {
    log(`the peer's Python packages are missing under ${PY} (${tail(r.stderr, 160)}); installing the Debian packages`);
    const inst = aptInstall(['python3-torch', 'python3-numpy', 'python3-pil', 'libopenblas0-openmp']);
    if (!inst.ok) return { ok: false, reason: `apt-get failed: ${tail(inst.stderr || inst.error || '', 300)}` };
    setOpenblasOpenmp();
    r = runSync(PY, PEER_CHECK, { timeoutMs: 120_000 });
    if (!r.ok) return { ok: false, reason: `torch still not importable: ${tail(r.stderr, 300)}` };
  } else {
    setOpenblasOpenmp(); // no-op when already set as RESULTS.md describes
  }
  return { ok: true, torch: r.stdout.trim() };
}

function machineInfo(peerInfo) {
  const lscpu = runSync('lscpu', [], { timeoutMs: 10_000 }).stdout;
  const field = (k) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(lscpu)?.[1]?.trim() ?? null;
  const require = createRequire(import.meta.url);
  let ort = null;
  try {
    ort = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  } catch {
    /* not installed */
  }
  const dpkg = (p) => runSync('dpkg-query', ['-W', '-f', '${Version}', p], { timeoutMs: 10_000 }).stdout.trim() || null;
  const git = (args) => runSync('git', ['-C', REPO, ...args], { timeoutMs: 10_000 }).stdout.trim();
  return {
    cpu: field('Model name'),
    vendor: field('Vendor ID'),
    hypervisor: field('Hypervisor vendor'),
    cpus: os.cpus().length,
    mem_gib: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
    onnxruntime_node: ort,
    sharp: (() => {
      try {
        return require('sharp/package.json').version;
      } catch {
        return null;
      }
    })(),
    python: peerInfo.ok ? runSync(PY, ['--version'], { timeoutMs: 10_000 }).stdout.trim() : null,
    torch: peerInfo.ok ? peerInfo.torch : null,
    debian_python3_torch: peerInfo.ok ? dpkg('python3-torch') : null,
    openblas_coretype: process.env.OPENBLAS_CORETYPE ?? null,
    git_commit: git(['rev-parse', '--short', 'HEAD']) || null,
    git_dirty_src: git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean).length,
  };
}

// ---------- one timed run of each system ----------
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-bench-'));
process.on('exit', () => {
  killAll();
  fs.rmSync(tmpDir, { recursive: true, force: true });
});

const commonFlags = (size, iters, optimizer) => [
  '--content', CONTENT, '--style', STYLE, '--weights', WEIGHTS, '--size', String(size), '--iters', String(iters),
  '--optimizer', optimizer, '--threads', String(THREADS), '--content-layers', CONTENT_LAYERS.join(','),
  '--style-layers', STYLE_LAYERS.join(','), '--pool', 'max', '--seed', '0', '--json',
];

async function runOurs(size, iters) {
  const args = [path.join(REPO, 'bin', 'styleloom.js'), ...commonFlags(size, iters, 'adam'), '--print-every', '0', '--out', path.join(tmpDir, `ours_${size}.png`)];
  const r = await runChild(process.execPath, args, { timeoutMs: RUN_TIMEOUT(size), cwd: REPO });
  const j = r.code === 0 ? lastJson(r.stdout) : null;
  const error = j ? null : r.timedOut ? `timed out after ${RUN_TIMEOUT(size) / 1000} s` : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 400)}`;
  return { ms: j?.ms_per_iter ?? null, loss: j?.loss?.total ?? null, width: j?.width, height: j?.height, wall_s: r.wallMs / 1e3, rss_mb: r.maxRssKb ? r.maxRssKb / 1024 : null, other_cores: r.otherCores, error };
}

async function runPeer(size, iters, optimizer = 'adam', timeoutMs = RUN_TIMEOUT(size)) {
  const r = await runChild(PY, [PEER, ...commonFlags(size, iters, optimizer)], { timeoutMs, cwd: path.dirname(PEER) });
  const j = r.code === 0 ? lastJson(r.stdout) : null;
  const error = j ? null : r.timedOut ? `timed out after ${timeoutMs / 1000} s` : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 400)}`;
  return {
    ms: j?.ms_per_iter ?? null, loss: j?.loss?.total ?? null, width: j?.size?.content_hw?.[1], height: j?.size?.content_hw?.[0],
    wall_s: r.wallMs / 1e3, loop_s: j?.total_s ?? null, rss_mb: r.maxRssKb ? r.maxRssKb / 1024 : null, other_cores: r.otherCores, blas: j?.blas, mkldnn: j?.mkldnn, torch: j?.torch,
    history: j?.loss_history, error,
  };
}

/**
 * Runs `once` and, while other processes took more than NOISY_CORES cores during the run, runs it again
 * (at most RETRY_NOISY more times); returns the run with the least other load, with `attempts`.
 */
async function leastDisturbed(name, once, { retries = RETRY_NOISY, describe } = {}) {
  const show = describe ?? ((r) => `${r.ms.toFixed(1)} ms/iter, peak RSS ${r.rss_mb?.toFixed(0)} MB${r.blas ? ` (${r.blas}, mkldnn ${r.mkldnn})` : ''}`);
  const runs = [];
  for (let k = 0; k <= retries; k++) {
    const r = await once();
    runs.push(r);
    if (!r.error) log(`  ${name} ${show(r)}${busy(r)}`);
    if (r.error || !(r.other_cores > NOISY_CORES)) break;
    if (k < retries) log(`  disturbed run; again (${k + 1}/${retries})`);
  }
  const ok = runs.filter((r) => !r.error);
  const best = ok.length ? ok.reduce((a, b) => ((b.other_cores ?? 0) < (a.other_cores ?? 0) ? b : a)) : runs[runs.length - 1];
  return { ...best, attempts: runs.length };
}

// ---------- time to quality (L-BFGS, 512 px) ----------
async function timeToQuality() {
  const retries = Math.min(1, RETRY_NOISY); // these runs are long: at most one retry each
  log(`time-to-quality: peer L-BFGS, ${TTQ_PEER_ITERS} iterations at ${TTQ_SIZE} px`);
  const peer = await leastDisturbed('peer', () => runPeer(TTQ_SIZE, TTQ_PEER_ITERS, 'lbfgs', 600_000), {
    retries,
    describe: (p) => `final loss ${p.loss.toExponential(4)}, loop ${p.loop_s.toFixed(1)} s, process ${p.wall_s.toFixed(1)} s, peak RSS ${p.rss_mb?.toFixed(0)} MB`,
  });
  if (peer.error) return { error: `peer failed: ${peer.error}` };
  const target = peer.loss;
  log(`time-to-quality: styleloom L-BFGS at ${TTQ_SIZE} px until its loss <= ${target.toExponential(4)} (at most ${TTQ_MAX_ITERS} iterations)`);
  const describe = (o) => (o.reached ? `reached it at iteration ${o.iter} after ${o.loop_s.toFixed(1)} s loop, ${o.wall_s.toFixed(1)} s process` : `did not reach it in ${o.iters_run} iterations`);
  const ours = await leastDisturbed('styleloom', () => oursUntil(target, 'none'), { retries, describe });
  let oursWolfe = null;
  if (TTQ_WOLFE) {
    log(`time-to-quality: styleloom L-BFGS --line-search strong-wolfe, the same target`);
    oursWolfe = await leastDisturbed('styleloom', () => oursUntil(target, 'strong-wolfe'), { retries, describe });
  }
  return {
    size: TTQ_SIZE,
    target_loss: target,
    peer: {
      iters: TTQ_PEER_ITERS, final_loss: target, loop_s: round(peer.loop_s), wall_s: round(peer.wall_s), rss_mb: round(peer.rss_mb, 1),
      other_cores: round(peer.other_cores, 2), attempts: peer.attempts, loss_history: peer.history?.map((x) => sig(x, 5)),
    },
    ours,
    ours_strong_wolfe: oursWolfe,
  };
}

/** styleloom's L-BFGS (in a child: bench/ttq-child.mjs) until its loss reaches `target`. */
async function oursUntil(target, lineSearch) {
  const opts = {
    content: CONTENT, styles: [STYLE], weights: WEIGHTS, size: TTQ_SIZE, iters: TTQ_MAX_ITERS, optimizer: 'lbfgs', lineSearch, threads: THREADS,
    contentLayers: CONTENT_LAYERS, styleLayers: STYLE_LAYERS, pool: 'max', seed: 0, target,
  };
  const traj = [];
  let reached = null;
  let done = null;
  const r = await runChild(process.execPath, [path.join(HERE, 'ttq-child.mjs'), JSON.stringify(opts)], {
    timeoutMs: 900_000,
    cwd: REPO,
    onLine(line, atMs) {
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (e.type === 'iter') traj.push([e.iter, sig(e.loss, 5), round(e.elapsedMs / 1e3, 2)]);
      else if (e.type === 'reached') reached = { ...e, wallMs: atMs };
      else if (e.type === 'done') done = e;
    },
  });
  return {
    reached: Boolean(reached),
    iter: reached?.iter ?? null,
    loss: reached?.loss ?? null,
    loop_s: reached ? round(reached.elapsedMs / 1e3) : null,
    wall_s: reached ? round(reached.wallMs / 1e3) : null,
    process_wall_s: round(r.wallMs / 1e3),
    rss_mb: r.maxRssKb ? round(r.maxRssKb / 1024, 1) : null,
    other_cores: round(r.otherCores, 2),
    best_loss: done?.best ?? (traj.length ? Math.min(...traj.map((t) => t[1])) : null),
    iters_run: traj.length,
    error: r.code === 0 ? null : r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 400)}`,
    trajectory: traj, // [iter, loss before that iteration's update, loop seconds at the end of the iteration]
  };
}

/** CPU in use on the whole machine over the next `ms` milliseconds, in cores. */
async function busyCores(ms) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return a && b ? (b[0] - a[0]) / (ms / 1e3) : 0;
}

/** Waits (at most maxS seconds) until other processes use less than 0.3 cores over a 3 s window. */
async function waitIdle(maxS) {
  const t0 = performance.now();
  for (;;) {
    const cores = await busyCores(3000);
    if (cores < 0.3) return log(`machine idle (${cores.toFixed(2)} cores busy); starting`);
    if ((performance.now() - t0) / 1e3 > maxS) return log(`still ${cores.toFixed(2)} cores busy after ${maxS} s; starting anyway`);
    log(`waiting for other work to finish (${cores.toFixed(2)} cores busy)`);
  }
}

// ---------- main ----------
async function main() {
  const tStart = performance.now();
  ensureDist();
  const gnuTime = ensureGnuTime();
  const peerInfo = ensurePeer();
  if (!peerInfo.ok) log(`PEER COMPARISON SKIPPED: ${peerInfo.reason}`);
  const watchdog = setTimeout(() => die(`watchdog: the bench ran past ${WATCHDOG_MS / 1000} s; stopped`, 3), WATCHDOG_MS);
  watchdog.unref();

  if (WAIT_IDLE_S > 0) await waitIdle(WAIT_IDLE_S);
  const loadBefore = loadavg();
  if (WAIT_IDLE_S <= 0) {
    const cores = await busyCores(1000);
    if (cores > NOISY_CORES) log(`other processes are using ${cores.toFixed(2)} cores: timings will be noisy (disturbed runs are retried; --wait-idle S waits first)`);
  }
  // The machine's practical fp32 peak, measured in this run: before and after the timed runs (best of both).
  const { measureHonestPeak } = await import('./peak.mjs');
  log(`peak: ${THREADS}-thread kernels (onnxruntime MatMul 2048^3 and 4096^3, OpenBLAS sgemm, torch.mm, torch's oneDNN conv), best of ${PEAK_RUNS} each`);
  const peakBefore = await measureHonestPeak({ threads: THREADS, runs: PEAK_RUNS, python: PY, quick: QUICK });
  for (const k of peakBefore.kernels) log(`  ${k.what}: ${k.gflops.toFixed(1)} GFLOP/s`);
  if (peakBefore.pyError) log(`  the peer's kernels were not measured: ${peakBefore.pyError}`);
  const { lossGraphFlops } = await import('./flops.mjs');
  const rows = [];
  let oursFailed = false;
  for (const size of SIZES) {
    const iters = ITERS(size);
    const ours = [];
    const peer = [];
    for (let rep = 0; rep < REPS; rep++) {
      log(`${size} px, Adam, ${iters} iterations, ${THREADS} threads${REPS > 1 ? `, run ${rep + 1}/${REPS}` : ''}: styleloom`);
      const o = await leastDisturbed('styleloom', () => runOurs(size, iters));
      if (o.error) log(`  styleloom FAILED: ${o.error}`);
      ours.push(o);
      if (peerInfo.ok) {
        log(`${size} px: peer`);
        const p = await leastDisturbed('peer', () => runPeer(size, iters));
        if (p.error) log(`  peer FAILED: ${p.error}`);
        peer.push(p);
      }
    }
    if (ours.every((o) => o.error)) oursFailed = true;
    const ok = ours.find((o) => !o.error);
    const pk = peer.find((p) => !p.error);
    const width = ok?.width ?? pk?.width;
    const height = ok?.height ?? pk?.height;
    let flops = null;
    if (width && height) {
      const f = await lossGraphFlops({ weightsPath: WEIGHTS, height, width, contentLayers: CONTENT_LAYERS, styleLayers: STYLE_LAYERS, pool: 'max' });
      flops = { total: f.total, conv_forward: f.conv_forward, conv_backward: f.conv_backward, gram: f.gram, elementwise: f.elementwise, nodes: f.nodes };
    }
    const oursMs = median(ours.map((o) => o.ms));
    const peerMs = median(peer.map((p) => p.ms));
    rows.push({
      size, width, height, iters,
      ours: { ms_per_iter: round(oursMs), runs_ms: ours.map((o) => round(o.ms)), loss: ok?.loss ?? null, rss_mb: round(Math.max(...ours.map((o) => o.rss_mb ?? 0)) || null, 1), wall_s: round(median(ours.map((o) => o.wall_s)), 2), other_cores: ours.map((o) => round(o.other_cores, 2)), attempts: ours.map((o) => o.attempts), errors: ours.map((o) => o.error).filter(Boolean) },
      peer: peerInfo.ok
        ? { ms_per_iter: round(peerMs), runs_ms: peer.map((p) => round(p.ms)), loss: pk?.loss ?? null, rss_mb: round(Math.max(...peer.map((p) => p.rss_mb ?? 0)) || null, 1), wall_s: round(median(peer.map((p) => p.wall_s)), 2), other_cores: peer.map((p) => round(p.other_cores, 2)), attempts: peer.map((p) => p.attempts), blas: pk?.blas ?? null, mkldnn: pk?.mkldnn ?? null, errors: peer.map((p) => p.error).filter(Boolean) }
        : null,
      ratio: oursMs && peerMs ? round(peerMs / oursMs, 3) : null,
      gflop_per_iter: flops ? round(flops.total / 1e9, 3) : null,
      flops,
    });
  }

  let ttq = null;
  if (WITH_TTQ) {
    if (!peerInfo.ok) ttq = { skipped: `no peer (${peerInfo.reason})` };
    else ttq = await timeToQuality();
  }

  log(`peak (again, after the runs), best of ${PEAK_RUNS} each`);
  const peakAfter = await measureHonestPeak({ threads: THREADS, runs: PEAK_RUNS, python: PY, quick: QUICK });
  const peak = peakBefore.gflops >= peakAfter.gflops ? peakBefore : peakAfter;
  peak.both_gflops = [round(peakBefore.gflops, 1), round(peakAfter.gflops, 1)];
  peak.runs = PEAK_RUNS;
  log(`  peak ${peak.gflops.toFixed(1)} GFLOP/s, ${peak.best.what} (before the runs ${peakBefore.gflops.toFixed(1)}, after ${peakAfter.gflops.toFixed(1)})`);
  const loadAfter = loadavg();
  for (const r of rows) {
    if (!r.flops) continue;
    r.ours.gflops = r.ours.ms_per_iter ? round(r.flops.total / (r.ours.ms_per_iter * 1e6), 1) : null;
    r.ours.pct_of_peak = r.ours.gflops ? round((100 * r.ours.gflops) / peak.gflops, 1) : null;
    if (r.peer) {
      r.peer.gflops = r.peer.ms_per_iter ? round(r.flops.total / (r.peer.ms_per_iter * 1e6), 1) : null;
      r.peer.pct_of_peak = r.peer.gflops ? round((100 * r.peer.gflops) / peak.gflops, 1) : null;
    }
  }

  const machine = machineInfo(peerInfo);
  const peerRow = rows.find((r) => r.peer?.blas);
  if (peerRow) {
    machine.peer_blas = peerRow.peer.blas;
    machine.peer_mkldnn = peerRow.peer.mkldnn;
  }
  printTable(rows, peak, ttq, machine, peerInfo, gnuTime);

  const elapsed = (performance.now() - tStart) / 1e3;
  if (!QUICK) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const result = {
      date: new Date().toISOString(),
      command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
      machine,
      settings: {
        content: 'chelsea.png', style: 'starry_night.jpg', weights: path.basename(WEIGHTS), content_layers: CONTENT_LAYERS, style_layers: STYLE_LAYERS,
        pool: 'max', optimizer: 'adam', lr: 10, threads: THREADS, reps: REPS,
        ms_per_iter: 'median wall time of iterations 3..K of one run (each system reports it itself); median over runs when --reps > 1',
        rss: gnuTime ? 'max RSS of the whole child process (GNU time %M)' : 'VmHWM of the child, polled every 50 ms',
      },
      peak: {
        what: `the best of several fp32 kernels on ${peak.threads} threads (onnxruntime MatMul 2048^3 and 4096^3, OpenBLAS sgemm 4096^3 through numpy, torch.mm 4096^3, torch's oneDNN 3x3 conv 256->256 at 128x128), best of ${peak.runs} runs each, measured before and after the timed runs; the better is used`,
        best_kernel: peak.best.what, gflops: round(peak.gflops, 1), before_after_gflops: peak.both_gflops, best_ms: round(peak.best.best_ms, 2),
        kernels: peak.kernels.map((k) => ({ what: k.what, gflops: round(k.gflops, 1) })),
      },
      loadavg: { before: loadBefore, after: loadAfter },
      sizes: rows,
      time_to_quality: ttq,
      peer: peerInfo.ok ? { script: 'shared/peers/pytorch_gatys.py', python: PY } : { skipped: peerInfo.reason },
      bench_seconds: round(elapsed, 1),
    };
    fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${pretty(result)}\n`);
    const { chartSpec, writeChartPng } = await import('./chart.mjs');
    if (rows.some((r) => r.ours.ms_per_iter > 0 || r.peer?.ms_per_iter > 0)) await writeChartPng(path.join(RESULTS_DIR, 'ms-per-iter.png'), chartSpec(result));
    log(`wrote ${path.relative(REPO, path.join(RESULTS_DIR, 'latest.json'))} and ms-per-iter.png (${elapsed.toFixed(0)} s in all)`);
  }
  clearTimeout(watchdog);
  if (QUICK) {
    const r = rows[0];
    // the last stdout line, exactly: ratio=<peer ms / our ms>
    process.stdout.write(`ratio=${r?.ratio != null ? (r.peer.ms_per_iter / r.ours.ms_per_iter).toFixed(2) : 'n/a'}\n`);
  }
  return oursFailed ? 1 : 0;
}

/** JSON with objects indented and arrays of plain values (or of such arrays) on one line. */
function pretty(v, ind = '') {
  const flat = (x) => x === null || typeof x !== 'object' || (Array.isArray(x) && x.every((y) => y === null || typeof y !== 'object'));
  if (Array.isArray(v)) {
    if (v.every(flat)) return JSON.stringify(v);
    return `[\n${v.map((x) => `${ind}  ${pretty(x, `${ind}  `)}`).join(',\n')}\n${ind}]`;
  }
  if (v && typeof v === 'object') {
    const e = Object.entries(v).filter(([, x]) => x !== undefined);
    if (!e.length) return '{}';
    return `{\n${e.map(([k, x]) => `${ind}  ${JSON.stringify(k)}: ${pretty(x, `${ind}  `)}`).join(',\n')}\n${ind}}`;
  }
  return JSON.stringify(v);
}

function printTable(rows, peak, ttq, machine, peerInfo, gnuTime) {
  const f = (x, d = 1) => (x == null ? 'n/a' : x.toFixed(d));
  const pad = (s, n) => String(s).padStart(n);
  const out = [];
  out.push('');
  out.push(`styleloom vs PyTorch peer — Adam, chelsea.png + starry_night.jpg, content ${CONTENT_LAYERS}, style ${STYLE_LAYERS}, ${THREADS} threads`);
  out.push(`machine: ${machine.cpu} (${machine.cpus} vCPUs), node ${machine.node}, onnxruntime-node ${machine.onnxruntime_node}, torch ${machine.torch ?? 'n/a'}`);
  if (!peerInfo.ok) out.push(`PEER COMPARISON SKIPPED: ${peerInfo.reason}`);
  out.push('');
  const head = ['size', 'H x W', 'iters', 'ours ms/it', 'peer ms/it', 'peer/ours', 'GFLOP/it', 'ours GFLOP/s', '% peak', 'peer GFLOP/s', '% peak', 'ours RSS MB', 'peer RSS MB'];
  const widths = [5, 11, 5, 11, 11, 9, 9, 12, 7, 12, 7, 11, 11];
  out.push(head.map((h, i) => pad(h, widths[i])).join('  '));
  for (const r of rows) {
    const cells = [
      r.size, r.height && r.width ? `${r.height} x ${r.width}` : '?', r.iters, f(r.ours.ms_per_iter), f(r.peer?.ms_per_iter), f(r.ratio, 2), f(r.gflop_per_iter, 2),
      f(r.ours.gflops), f(r.ours.pct_of_peak), f(r.peer?.gflops), f(r.peer?.pct_of_peak), f(r.ours.rss_mb, 0), f(r.peer?.rss_mb, 0),
    ];
    out.push(cells.map((c, i) => pad(c, widths[i])).join('  '));
    for (const e of [...r.ours.errors, ...(r.peer?.errors ?? [])]) out.push(`       error: ${e}`);
    const others = [...r.ours.other_cores, ...(r.peer?.other_cores ?? [])];
    if (others.some((c) => c > NOISY_CORES)) out.push(`       noisy: other processes used ${r.ours.other_cores.join('/')} cores during our run(s), ${(r.peer?.other_cores ?? []).join('/') || '-'} during the peer's`);
  }
  out.push('');
  out.push(`measured peak (the best fp32 kernel of this run, ${peak.threads} threads: ${peak.best.what}; before/after the runs ${peak.both_gflops.join(' / ')}): ${f(peak.gflops)} GFLOP/s; every kernel: ${peak.kernels.map((k) => `${k.what} ${f(k.gflops)}`).join(', ')}`);
  out.push(`peak RSS: ${gnuTime ? 'GNU time %M of each child process' : 'VmHWM polled every 50 ms'} (whole run, incl. set-up)`);
  if (ttq) {
    if (ttq.skipped || ttq.error) out.push(`time-to-quality: skipped (${ttq.skipped ?? ttq.error})`);
    else {
      const noisy = (c) => (c > NOISY_CORES ? ` [disturbed: others used ${c.toFixed(2)} cores]` : '');
      out.push(`time-to-quality, L-BFGS at ${ttq.size} px: peer ${ttq.peer.iters} iterations -> loss ${ttq.target_loss.toExponential(4)} in ${f(ttq.peer.loop_s, 2)} s loop / ${f(ttq.peer.wall_s, 2)} s process wall (RSS ${f(ttq.peer.rss_mb, 0)} MB)${noisy(ttq.peer.other_cores)}`);
      for (const [o, how] of [[ttq.ours, 'styleloom'], [ttq.ours_strong_wolfe, 'styleloom --line-search strong-wolfe']]) {
        if (!o) continue;
        out.push(
          o.reached
            ? `    ${how} reaches it at iteration ${o.iter} (loss ${o.loss.toExponential(4)}) after ${f(o.loop_s, 2)} s loop / ${f(o.wall_s, 2)} s process wall (RSS ${f(o.rss_mb, 0)} MB; peer/ours ${f(ttq.peer.wall_s / o.wall_s, 2)} by process wall)${noisy(o.other_cores)}`
            : `    ${how} did NOT reach it in ${o.iters_run} iterations (best ${o.best_loss?.toExponential(4)}, ${f(o.process_wall_s, 1)} s)${o.error ? `: ${o.error}` : ''}`,
        );
      }
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  (code) => {
    killAll();
    process.exitCode = code;
  },
  (e) => die(`failed: ${e?.stack ?? e}`, 1),
);
