// Audio style transfer against the PyTorch peer (../shared/peers/pytorch_audio_style.py) at equal
// settings: ms/iter, whole-run wall time, peak RSS, final losses; then the independent sound-texture
// metric (../shared/metrics/audio_texture.py) on both results. Not part of npm test.
//
//   node bench/audio.mjs --content SPEECH[,MORE] --style MUSIC [--style-start S --style-seconds S] [--sr 22050 --filters 4096 --iters 300 ...] [--runs 1] [--markdown]
//   node bench/audio.mjs --quick      # a smoke test at a tiny size (synthetic sounds, seconds)
//   ... --ours "--front-end mel"      # extra flags for styleloom only (its own options against the peer's mode)
//   ... --drift                       # the peer at 1 and --threads threads and styleloom: where their loss histories part
//
// Needs /usr/bin/python3 with torch, numpy, soundfile and scipy (scripts/install-audio-peer.sh).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJson, runChild } from './proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const PEER = path.join(SHARED, 'peers', 'pytorch_audio_style.py');
const METRIC = path.join(SHARED, 'metrics', 'audio_texture.py');
const PY = '/usr/bin/python3';
const BIN = path.join(ROOT, 'bin', 'styleloom.js');

function parseArgs(argv) {
  const a = { sr: 22050, 'n-fft': 2048, hop: 512, filters: 4096, width: 11, iters: 300, 'gl-iters': 500, 'content-weight': 0.01, 'style-weight': 1, init: 'content', seed: 0, threads: 2, runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (['quick', 'markdown', 'drift'].includes(k)) a[k] = true;
    else a[k] = argv[++i];
  }
  if (a.quick) Object.assign(a, { sr: 8000, 'n-fft': 256, hop: 64, filters: 32, width: 5, iters: 10, 'gl-iters': 10, threads: 1 });
  return a;
}

/** --quick's synthetic sounds: an exponential sweep 200..3000 Hz, and two tones (500, 1500 Hz). */
function chirp(sr, seconds) {
  const n = Math.round(sr * seconds);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * 200 * 15 ** (i / n)) / sr;
    out[i] = 0.5 * Math.sin(phase);
  }
  return out;
}
function tones(sr, seconds) {
  return Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 500 * i) / sr) + 0.3 * Math.sin((2 * Math.PI * 1500 * i) / sr));
}

const SHARED_FLAGS = ['sr', 'n-fft', 'hop', 'filters', 'width', 'iters', 'content-weight', 'style-weight', 'init', 'seed', 'gl-iters', 'threads'];

/** Both inputs as 16-bit mono WAV at --sr (the peer reads only WAV at its rate), via styleloom's own reader. */
async function prepareInputs(a, dir) {
  const { readSound, writeSound } = await import(path.join(ROOT, 'dist', 'src', 'audio', 'sound-io.js'));
  const sr = Number(a.sr);
  const out = {};
  for (const role of ['content', 'style']) {
    let sound;
    if (a[role]) {
      // several files (comma-separated) are joined; --<role>-start / --<role>-seconds cut the result
      const parts = [];
      for (const f of String(a[role]).split(',')) parts.push((await readSound(f, { sampleRate: sr, maxSeconds: 3600, what: f })).sound.samples);
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      const start = Math.round(Number(a[`${role}-start`] ?? 0) * sr);
      const len = a[`${role}-seconds`] ? Math.round(Number(a[`${role}-seconds`]) * sr) : all.length - start;
      sound = { samples: all.slice(start, start + len), sampleRate: sr };
    } else if (a.quick) sound = { samples: role === 'content' ? chirp(sr, 1) : tones(sr, 1.2), sampleRate: sr };
    else throw new Error(`give --${role} <file> (or --quick)`);
    out[role] = path.join(dir, `${role}.wav`);
    await writeSound(out[role], sound);
  }
  return out;
}

function flags(a) {
  return SHARED_FLAGS.flatMap((k) => [`--${k}`, String(a[k])]);
}

async function runOne(kind, a, files, dir, k) {
  const out = path.join(dir, `${kind}-${k}.wav`);
  const args = ['--content', files.content, '--style', files.style, ...flags(a), '--out', out, '--json'];
  // --ours "<flags>": extra flags for styleloom only (e.g. "--front-end mel"), to measure its own options against the peer
  const ours = a.ours ? String(a.ours).split(/\s+/).filter(Boolean) : [];
  const r = kind === 'peer' ? await runChild(PY, [PEER, ...args], { timeoutMs: 4 * 3600e3 }) : await runChild(process.execPath, [BIN, 'audio', ...args, ...ours], { timeoutMs: 4 * 3600e3 });
  const j = lastJson(r.stdout);
  if (r.code !== 0 || !j) throw new Error(`${kind} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { kind, run: k, wall_s: r.wallMs / 1e3, max_rss_mb: r.maxRssKb ? r.maxRssKb / 1024 : null, other_cores: r.otherCores, ms_per_iter: j.ms_per_iter, loss: j.loss, out };
}

function metric(files, out) {
  return runChild(PY, [METRIC, files.content, files.style, out], { timeoutMs: 600e3 }).then((r) => {
    const j = lastJson(r.stdout);
    if (r.code !== 0 || !j) throw new Error(`metric failed: ${r.stderr.trim().split('\n').pop()}`);
    return j;
  });
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The first iteration at which two loss histories differ by more than `rel` (relative), or null. */
const parts = (x, y, rel) => {
  const k = x.findIndex((v, i) => i < y.length && Math.abs(v - y[i]) > rel * Math.abs(y[i]));
  return k < 0 ? null : k + 1;
};

/**
 * --drift: is "the final loss within 5% of the peer's" a property of the implementations, or of L-BFGS
 * without a line search on float32 sums? The peer against itself at two thread counts (another order of
 * its float32 sums, nothing else), and styleloom against both: final losses and where the histories part.
 */
async function drift(a, files, dir) {
  const peer = async (threads) => {
    const r = await runChild(PY, [PEER, '--content', files.content, '--style', files.style, ...flags({ ...a, threads }), '--out', path.join(dir, `peer-t${threads}.wav`), '--json'], { timeoutMs: 4 * 3600e3 });
    const j = lastJson(r.stdout);
    if (r.code !== 0 || !j) throw new Error(`peer failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { final: j.loss_history.at(-1), reported: j.loss.total, history: j.loss_history };
  };
  const { stylizeAudio } = await import(path.join(ROOT, 'dist', 'src', 'audio', 'stylize-audio.js'));
  const o = { content: files.content, styles: [files.style], sr: Number(a.sr), nFft: Number(a['n-fft']), hop: Number(a.hop), filters: Number(a.filters), width: [Number(a.width)], iters: Number(a.iters), contentWeight: Number(a['content-weight']), styleWeight: Number(a['style-weight']), init: a.init, seed: Number(a.seed), glIters: 1, threads: Number(a.threads) };
  const ours = await stylizeAudio(o);
  const runs = { [`peer, ${a.threads} threads`]: await peer(Number(a.threads)), ...(Number(a.threads) === 1 ? {} : { 'peer, 1 thread': await peer(1) }), [`styleloom, ${a.threads} threads`]: { final: ours.lossHistory.at(-1), reported: ours.loss.total, history: ours.lossHistory } };
  const names = Object.keys(runs);
  const ref = runs[names[0]];
  const rows = names.map((n) => ({ run: n, final: runs[n].final, ratio: runs[n].final / ref.final, reported: runs[n].reported, reportedRatio: runs[n].reported / ref.reported, parts1: parts(runs[n].history, ref.history, 0.01), parts5: parts(runs[n].history, ref.history, 0.05) }));
  console.log(JSON.stringify({ settings: Object.fromEntries(SHARED_FLAGS.map((k) => [k, a[k]])), rows }));
  if (a.markdown) {
    console.log(`\n| run | loss at the last iteration | / the first row's | final loss reported | / the first row's | first iteration 1% apart | 5% apart |\n|---|---|---|---|---|---|---|`);
    for (const r of rows) console.log(`| ${r.run} | ${r.final.toExponential(4)} | ${r.ratio.toFixed(3)} | ${r.reported.toExponential(4)} | ${r.reportedRatio.toFixed(3)} | ${r.parts1 ?? '—'} | ${r.parts5 ?? '—'} |`);
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(PY)) throw new Error(`${PY} is missing: run scripts/install-audio-peer.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-bench-audio-'));
  const files = await prepareInputs(a, dir);
  if (a.drift) return drift(a, files, dir);
  const rows = [];
  for (let k = 0; k < Number(a.runs); k++) {
    for (const kind of ['peer', 'styleloom']) {
      const r = await runOne(kind, a, files, dir, k);
      rows.push(r);
      process.stderr.write(`${kind} run ${k + 1}: ${r.ms_per_iter.toFixed(1)} ms/iter, ${r.wall_s.toFixed(1)} s, loss ${r.loss.total.toExponential(4)}\n`);
    }
  }
  const by = (kind) => rows.filter((r) => r.kind === kind);
  const summary = {};
  for (const kind of ['peer', 'styleloom']) {
    const rs = by(kind);
    summary[kind] = { ms_per_iter: median(rs.map((r) => r.ms_per_iter)), wall_s: median(rs.map((r) => r.wall_s)), max_rss_mb: median(rs.map((r) => r.max_rss_mb ?? 0)), loss: rs[0].loss, texture: await metric(files, rs[0].out) };
  }
  const s = summary;
  const tex = (t) => (t.texture_dist_content - t.texture_dist_output) / t.texture_dist_content; // share of the way from content (1) to style (0)
  const result = {
    settings: Object.fromEntries(SHARED_FLAGS.map((k) => [k, a[k]])),
    styleloom_extra: a.ours ?? '',
    inputs: { content: a.content ?? 'chirp (synthetic)', style: a.style ?? 'two tones (synthetic)', wavs: files },
    peer: s.peer,
    styleloom: s.styleloom,
    speedup_ms_per_iter: s.peer.ms_per_iter / s.styleloom.ms_per_iter,
    speedup_wall: s.peer.wall_s / s.styleloom.wall_s,
    loss_ratio: s.styleloom.loss.total / s.peer.loss.total,
    texture_moved: { styleloom: tex(s.styleloom.texture), peer: tex(s.peer.texture) },
    envelope_corr: { styleloom: s.styleloom.texture.envelope_corr, peer: s.peer.texture.envelope_corr },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (a.markdown) {
    const f = (x, d = 1) => (x == null ? '' : Number(x).toFixed(d));
    const md = [
      `| | ms/iter | whole run s | peak RSS MB | content loss | style loss | total loss | texture moved toward style | envelope corr. with content |`,
      `|---|---|---|---|---|---|---|---|---|`,
      ...['peer', 'styleloom'].map((k) => `| ${k} | ${f(s[k].ms_per_iter)} | ${f(s[k].wall_s)} | ${f(s[k].max_rss_mb, 0)} | ${s[k].loss.content.toExponential(4)} | ${s[k].loss.style.toExponential(4)} | ${s[k].loss.total.toExponential(4)} | ${f(100 * tex(s[k].texture), 0)}% | ${f(s[k].texture.envelope_corr, 3)} |`),
      '',
      `speed-up ${f(result.speedup_ms_per_iter, 2)}x per iteration, ${f(result.speedup_wall, 2)}x whole run; loss ratio (styleloom / peer) ${f(result.loss_ratio, 4)}`,
    ].join('\n');
    process.stdout.write(`\n${md}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench/audio: ${e.message}\n`);
  process.exit(1);
});
