// The styleloom web page: pick a photo and a painting (files, drag and drop, or the server's samples),
// set the weights, start a job on the HTTP API, follow it live over Server-Sent Events (preview
// image, loss chart, progress and ETA), cancel, download, and reopen past jobs. No framework.
import './style.css';

type Status = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
type Mode = 'gatys' | 'fast';
type Role = 'content' | 'style';

interface Loss {
  content: number;
  style: number;
  tv: number;
  total: number;
}

interface Job {
  id: string;
  status: Status;
  mode: Mode;
  params: { size?: number; iters?: number; model?: string; style_weight?: number; original_colors?: boolean; scales?: number };
  inputs?: { content?: string; styles?: string[] };
  progress: { iter: number; iters: number };
  loss: Loss | null;
  lossHistory?: number[];
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  width?: number;
  height?: number;
  resultUrl?: string;
  previewUrl?: string;
  eventsUrl: string;
}

interface Sample {
  name: string;
  url: string;
  thumbUrl: string;
  width?: number;
  height?: number;
}

interface Models {
  vgg: { path: string | null; layers: string[]; error?: string };
  fast: { name: string }[];
  limits: { maxSize: number; maxIters: number; maxUploadMb: number; maxStyles: number };
}

interface Picked {
  blob: Blob;
  name: string;
  url: string;
  sample?: string;
}

// ---------- small helpers ----------

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string | null | undefined)[]) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
};

const SVG_NS = 'http://www.w3.org/2000/svg';
const svg = (tag: string, attrs: Record<string, string | number> = {}) => {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

const isFinal = (s: Status) => s === 'done' || s === 'failed' || s === 'cancelled';

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body as { error?: string }).error ?? `${r.status} ${r.statusText}`);
  return body as T;
}

function toast(message: string, kind: 'info' | 'error' = 'info') {
  const t = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  $('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

const SUP: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' };

const sup = (e: number) =>
  String(e)
    .split('')
    .map((c) => SUP[c] ?? c)
    .join('');

/** 1234 -> "1.2 × 10³" */
function pow10(x: number): string {
  if (!(x > 0) || !Number.isFinite(x)) return String(x);
  let e = Math.floor(Math.log10(x));
  let m = x / 10 ** e;
  if (Number(m.toFixed(1)) >= 10) {
    m /= 10;
    e += 1;
  }
  return `${m.toFixed(1)} × 10${sup(e)}`;
}

/** Compact numbers for the chart and the loss terms: 172110 -> "1.72e5", 0.5 -> "0.5". */
function sci(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 0.01 && a < 1000) return Number(x.toPrecision(3)).toString();
  const e = Math.floor(Math.log10(a));
  return `${Number((x / 10 ** e).toPrecision(3))}e${e}`;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function ago(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return '';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

const TITLES: Record<string, string> = {
  starry_night: 'The Starry Night',
  the_scream: 'The Scream',
  great_wave: 'The Great Wave',
  udnie: 'Udnie',
  turner_shipwreck: 'The Shipwreck',
  chelsea: 'Chelsea the cat',
};

function stem(name: string | undefined): string {
  if (!name) return '?';
  return name.replace(/\.[a-z0-9]+$/i, '');
}

function title(name: string | undefined): string {
  const s = stem(name);
  if (TITLES[s]) return TITLES[s];
  const t = s.replace(/[_-]+/g, ' ').trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Paintings among the samples: by name (the server's sample folder mixes photos and paintings). */
const PAINTING = /starry|scream|wave|udnie|shipwreck|turner|monet|muse|mosaic|candy|composition|kandinsky|picasso|gogh|painting|style/i;

// ---------- page state ----------

const DEV = new URLSearchParams(location.search).has('dev');
const picked: Partial<Record<Role, Picked>> = {};
/** The content image of jobs started from this page (for "hold to compare"). */
const jobContent = new Map<string, string>();
let samples: Sample[] = [];
let models: Models | null = null;
let mode: Mode = 'gatys';
let fastModel = '';

interface View {
  id: string;
  job: Job;
  es?: EventSource;
  losses: number[];
  rate?: { t0: number; i0: number };
  /** The evaluation with the lowest total seen over SSE (its terms are shown). */
  best?: Loss;
  previewIter: number;
  imageSeq: number;
}
let view: View | null = null;

// ---------- elements ----------

const el = {
  startBtn: $<HTMLButtonElement>('start'),
  startText: $('start-text'),
  startHint: $('start-hint'),
  styleWeight: $<HTMLInputElement>('style-weight'),
  size: $<HTMLInputElement>('size'),
  iters: $<HTMLInputElement>('iters'),
  originalColors: $<HTMLInputElement>('original-colors'),
  model: $<HTMLSelectElement>('model'),
  stage: $('stage'),
  stageImg: $<HTMLImageElement>('stage-img'),
  stageEmpty: $('stage-empty'),
  stageBadge: $('stage-badge'),
  stageTitle: $('stage-title'),
  statusChip: $('status-chip'),
  cancel: $<HTMLButtonElement>('cancel'),
  download: $<HTMLAnchorElement>('download'),
  compare: $<HTMLButtonElement>('compare'),
  bar: $('progress-bar'),
  fill: $('progress-fill'),
  progressText: $('progress-text'),
  rate: $('rate'),
  eta: $('eta'),
  lossTerms: $('loss-terms'),
  chart: $('chart'),
  chartSvg: document.getElementById('chart-svg') as unknown as SVGSVGElement,
  chartEmpty: $('chart-empty'),
  history: $('history'),
  serverPill: $('server-pill'),
  serverText: $('server-text'),
};

// ---------- settings ----------

const SETTINGS_KEY = 'styleloom.settings.v1';

function saveSettings() {
  try {
    localStorage.setItem(
      SETTINGS_KEY,
      JSON.stringify({ sw: el.styleWeight.value, size: el.size.value, iters: el.iters.value, orig: el.originalColors.checked, mode, model: fastModel }),
    );
  } catch {
    /* private mode */
  }
}

function loadSettings() {
  if (DEV) return;
  try {
    const s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? 'null');
    if (!s) return;
    if (s.sw) el.styleWeight.value = s.sw;
    if (s.size) el.size.value = s.size;
    if (s.iters) el.iters.value = s.iters;
    el.originalColors.checked = Boolean(s.orig);
    if (s.mode === 'fast' || s.mode === 'gatys') mode = s.mode;
    if (typeof s.model === 'string') fastModel = s.model;
  } catch {
    /* ignore */
  }
}

const styleWeight = () => Number((10 ** Number(el.styleWeight.value)).toPrecision(2));

function paintSlider(input: HTMLInputElement) {
  const min = Number(input.min);
  const max = Number(input.max);
  const f = max > min ? (Number(input.value) - min) / (max - min) : 0;
  input.style.setProperty('--fill', `${(f * 100).toFixed(2)}%`);
}

function renderSettings() {
  $('style-weight-out').textContent = pow10(styleWeight());
  $('size-out').textContent = `${el.size.value} px`;
  $('iters-out').textContent = el.iters.value;
  for (const s of [el.styleWeight, el.size, el.iters]) paintSlider(s);
  updateStart();
}

function setMode(m: Mode) {
  mode = m;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg')) b.setAttribute('aria-checked', String(b.dataset.mode === m));
  const fast = m === 'fast';
  $('field-model').hidden = !fast;
  $('field-style-weight').hidden = fast;
  $('field-iters').hidden = fast;
  $('field-iters').parentElement!.classList.toggle('single', fast);
  $('style-label').textContent = fast ? 'Network' : 'Style';
  $('drop-style').classList.toggle('locked', fast);
  $<HTMLInputElement>('file-style').disabled = fast;
  renderStyleThumbs();
  renderStyleTile();
  updateStart();
  saveSettings();
}

function updateStart() {
  const noVgg = models !== null && !models.vgg.path;
  let hint = '';
  let ok = false;
  if (mode === 'gatys') {
    if (noVgg) hint = 'The server has no VGG-19 weights: use Fast mode.';
    else if (!picked.content && !picked.style) hint = 'Choose a photo and a painting.';
    else if (!picked.content) hint = 'Now choose a photo.';
    else if (!picked.style) hint = 'Now choose a painting.';
    else {
      ok = true;
      hint = `${el.size.value} px · ${el.iters.value} iterations · style ${pow10(styleWeight())}`;
    }
  } else {
    if (!fastModel) hint = 'The server has no fast-style networks.';
    else if (!picked.content) hint = 'Choose a photo.';
    else {
      ok = true;
      hint = `${el.size.value} px · ${title(fastModel)} network · one pass`;
    }
  }
  el.startBtn.disabled = !ok;
  el.startHint.textContent = hint;
}

// ---------- images: files, drag and drop, samples ----------

function setPicked(role: Role, blob: Blob, name: string, sample?: string) {
  const maxMb = models?.limits.maxUploadMb ?? 25;
  if (blob.size > maxMb * 1024 * 1024) {
    toast(`${name} is ${(blob.size / 1048576).toFixed(1)} MB; the server takes at most ${maxMb} MB`, 'error');
    return;
  }
  if (blob.type && !blob.type.startsWith('image/')) {
    toast(`${name} is not an image`, 'error');
    return;
  }
  const old = picked[role];
  if (old && ![...jobContent.values()].includes(old.url)) URL.revokeObjectURL(old.url);
  picked[role] = { blob, name, url: URL.createObjectURL(blob), sample };
  renderTile(role);
  markThumbs();
  updateStart();
}

function renderTile(role: Role, override?: { src: string; name: string }) {
  const tile = $(`drop-${role}`);
  const img = tile.querySelector<HTMLImageElement>('.drop-img')!;
  const name = tile.querySelector<HTMLElement>('.drop-name')!;
  const p = picked[role];
  const src = override?.src ?? p?.url;
  tile.classList.toggle('has-image', Boolean(src));
  tile.querySelector<HTMLElement>('.drop-empty')!.hidden = Boolean(src);
  img.hidden = !src;
  if (src && img.getAttribute('src') !== src) img.src = src;
  name.textContent = override?.name ?? (p ? (p.sample ? title(p.sample) : p.name) : 'none yet');
  tile.title = override?.name ?? p?.name ?? '';
}

function renderStyleTile() {
  if (mode === 'fast') {
    const s = sampleForModel(fastModel);
    if (s) renderTile('style', { src: s.thumbUrl, name: title(fastModel) });
    else {
      const tile = $('drop-style');
      tile.classList.remove('has-image');
      tile.querySelector<HTMLImageElement>('.drop-img')!.hidden = true;
      tile.querySelector<HTMLElement>('.drop-empty')!.hidden = false;
      tile.querySelector<HTMLElement>('.drop-name')!.textContent = fastModel ? title(fastModel) : 'none';
    }
  } else renderTile('style');
}

function sampleForModel(model: string): Sample | undefined {
  if (!model) return undefined;
  const m = model.toLowerCase();
  return samples.find((s) => PAINTING.test(s.name) && stem(s.name).toLowerCase().includes(m));
}

async function pickSample(role: Role, s: Sample) {
  // show the thumbnail at once, the full image when it is here
  renderTile(role, { src: s.thumbUrl, name: title(s.name) });
  try {
    const r = await fetch(s.url);
    if (!r.ok) throw new Error(`${r.status}`);
    setPicked(role, await r.blob(), s.name, s.name);
  } catch (e) {
    toast(`could not load the sample ${s.name}: ${(e as Error).message}`, 'error');
    renderTile(role);
  }
}

function thumbButton(name: string, src: string, label: string, pressed: boolean, onClick: () => void, text?: string) {
  const b = h('button', { type: 'button', class: 'thumb', title: label, 'aria-label': label, 'aria-pressed': String(pressed), role: 'listitem', 'data-name': name }, src ? h('img', { src, alt: '', decoding: 'async' }) : null);
  if (text) b.append(h('span', { class: 'thumb-text' }, text));
  b.addEventListener('click', onClick);
  return b;
}

function splitSamples() {
  const paintings = samples.filter((s) => PAINTING.test(s.name));
  const photos = samples.filter((s) => !PAINTING.test(s.name));
  return paintings.length && photos.length ? { photos, paintings } : { photos: samples, paintings: samples };
}

function renderContentThumbs() {
  const box = $('thumbs-content');
  box.replaceChildren();
  const { photos } = splitSamples();
  for (const s of photos) box.append(thumbButton(s.name, s.thumbUrl, `Use ${title(s.name)} as the photo`, picked.content?.sample === s.name, () => void pickSample('content', s)));
  if (!photos.length) box.append(h('span', { class: 'thumbs-empty' }, 'No samples on this server.'));
  box.dataset.names = photos.map((s) => s.name).join(',');
}

function renderStyleThumbs() {
  const box = $('thumbs-style');
  box.replaceChildren();
  const label = $('samples-style-row').querySelector('.samples-label')!;
  if (mode === 'fast') {
    label.textContent = 'Networks';
    for (const m of models?.fast ?? []) {
      const s = sampleForModel(m.name);
      box.append(thumbButton(m.name, s?.thumbUrl ?? '', `Use the ${title(m.name)} network`, m.name === fastModel, () => selectModel(m.name), s ? undefined : m.name));
    }
    if (!models?.fast.length) box.append(h('span', { class: 'thumbs-empty' }, 'No fast-style networks on this server.'));
    return;
  }
  label.textContent = 'Paintings';
  const { paintings } = splitSamples();
  for (const s of paintings) box.append(thumbButton(s.name, s.thumbUrl, `Use ${title(s.name)} as the style`, picked.style?.sample === s.name, () => void pickSample('style', s)));
  if (!paintings.length) box.append(h('span', { class: 'thumbs-empty' }, 'No samples on this server.'));
}

function markThumbs() {
  renderContentThumbs();
  renderStyleThumbs();
}

function selectModel(name: string) {
  fastModel = name;
  el.model.value = name;
  renderStyleThumbs();
  renderStyleTile();
  updateStart();
  saveSettings();
}

function wireDrop(role: Role) {
  const tile = $(`drop-${role}`);
  const input = $<HTMLInputElement>(`file-${role}`);
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) setPicked(role, f, f.name);
    input.value = '';
  });
  tile.addEventListener('dragenter', (e) => {
    if (role === 'style' && mode === 'fast') return;
    e.preventDefault();
    tile.classList.add('dragover');
  });
  tile.addEventListener('dragover', (e) => {
    if (role === 'style' && mode === 'fast') return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  tile.addEventListener('dragleave', () => tile.classList.remove('dragover'));
  tile.addEventListener('drop', (e) => {
    e.preventDefault();
    tile.classList.remove('dragover');
    if (role === 'style' && mode === 'fast') return;
    const f = e.dataTransfer?.files?.[0];
    if (f) setPicked(role, f, f.name);
  });
}

// ---------- jobs ----------

async function start() {
  const content = picked.content;
  if (!content) return;
  const fd = new FormData();
  fd.append('content', content.blob, content.name);
  if (mode === 'fast') {
    fd.append('mode', 'fast');
    fd.append('model', fastModel);
  } else {
    const style = picked.style;
    if (!style) return;
    fd.append('style', style.blob, style.name);
    fd.append('iters', el.iters.value);
    fd.append('style_weight', String(styleWeight()));
  }
  fd.append('size', el.size.value);
  fd.append('original_colors', el.originalColors.checked ? 'true' : 'false');
  el.startBtn.disabled = true;
  el.startText.textContent = 'Starting…';
  try {
    const { id } = await api<{ id: string }>('/api/jobs', { method: 'POST', body: fd });
    jobContent.set(id, content.url);
    await openJob(id);
    void refreshHistory();
    void refreshHealth();
  } catch (e) {
    toast((e as Error).message, 'error');
  } finally {
    el.startText.textContent = 'Stylise';
    updateStart();
  }
}

function closeStream() {
  view?.es?.close();
  if (view) view.es = undefined;
}

async function openJob(id: string) {
  closeStream();
  let job: Job;
  try {
    job = await api<Job>(`/api/jobs/${id}`);
  } catch (e) {
    toast(`job ${id.slice(0, 8)}: ${(e as Error).message}`, 'error');
    return;
  }
  view = { id, job, losses: job.lossHistory ?? [], previewIter: -1, imageSeq: 0 };
  history.replaceState(null, '', `#job=${id}`);
  el.stageImg.hidden = true;
  el.stageImg.removeAttribute('src');
  el.stageBadge.hidden = true;
  el.stageEmpty.hidden = false;
  renderJob();
  drawChart();
  markCurrent();
  if (job.resultUrl) showImage(job.resultUrl, 'result');
  else if (job.previewUrl) showImage(job.previewUrl, 'preview', job.progress.iter);
  if (!isFinal(job.status)) subscribe(view);
}

function subscribe(v: View) {
  const es = new EventSource(v.job.eventsUrl);
  v.es = es;
  const mine = () => view === v;
  es.addEventListener('state', (e) => {
    if (!mine()) return es.close();
    const job = JSON.parse((e as MessageEvent).data) as Job;
    const wasRunning = v.job.status;
    v.job = job;
    if (job.lossHistory) v.losses = job.lossHistory;
    renderJob();
    scheduleChart();
    if (isFinal(job.status)) {
      es.close();
      v.es = undefined;
      if (job.status === 'done' && job.resultUrl) showImage(job.resultUrl, 'result');
      if (job.status === 'failed') toast(`The job failed: ${job.error ?? 'unknown error'}`, 'error');
      void refreshHistory();
      void refreshHealth();
    } else if (wasRunning !== job.status) {
      void refreshHistory();
      void refreshHealth();
    }
  });
  es.addEventListener('progress', (e) => {
    if (!mine()) return es.close();
    const p = JSON.parse((e as MessageEvent).data) as { iter: number; iters: number; loss: Loss | null };
    v.job.progress = { iter: p.iter, iters: p.iters };
    if (v.job.status === 'queued') v.job.status = 'running';
    if (p.loss) {
      v.job.loss = p.loss;
      v.losses.push(p.loss.total);
      if (!v.best || p.loss.total < v.best.total) v.best = p.loss;
    }
    renderJob();
    scheduleChart();
  });
  es.addEventListener('preview', (e) => {
    if (!mine()) return es.close();
    const p = JSON.parse((e as MessageEvent).data) as { iter: number; url: string };
    showImage(p.url, 'preview', p.iter);
    throttledHistory();
  });
}

/** Loads an image off-screen, then swaps it in (no flicker); older previews never replace newer ones. */
function showImage(url: string, kind: 'preview' | 'result', iter = 0) {
  const v = view;
  if (!v) return;
  if (kind === 'preview' && iter <= v.previewIter) return;
  if (kind === 'preview') v.previewIter = iter;
  const seq = ++v.imageSeq;
  const img = new Image();
  img.decoding = 'async';
  img.onload = () => {
    if (view !== v || seq < v.imageSeq) return;
    el.stageImg.src = url;
    el.stageImg.dataset.kind = kind;
    el.stageImg.dataset.w = String(img.naturalWidth);
    el.stageImg.dataset.h = String(img.naturalHeight);
    el.stageImg.hidden = false;
    el.stageEmpty.hidden = true;
    fitStage();
    el.stageBadge.hidden = false;
    el.stageBadge.textContent = kind === 'result' ? `Result · ${img.naturalWidth} × ${img.naturalHeight}` : `Live preview · iteration ${iter}`;
  };
  img.src = url;
}

/** Shows the picture as large as the stage allows (small previews scaled up, at most 3x). */
function fitStage() {
  const img = el.stageImg;
  const w = Number(img.dataset.w);
  const hh = Number(img.dataset.h);
  if (img.hidden || !w || !hh) return;
  const cs = getComputedStyle(el.stage);
  const aw = el.stage.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const ah = el.stage.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  const k = Math.max(0.05, Math.min(aw / w, ah / hh, 3));
  img.style.width = `${Math.floor(w * k)}px`;
  img.style.height = `${Math.floor(hh * k)}px`;
}

function renderJob() {
  const v = view;
  if (!v) return;
  const { job } = v;
  const { iter, iters } = job.progress;
  const now = performance.now();
  if (job.status === 'running' && iter > 0 && (!v.rate || iter < v.rate.i0)) v.rate = { t0: now, i0: iter };

  el.statusChip.dataset.status = job.status;
  el.statusChip.textContent = job.status;
  el.bar.dataset.status = job.status;
  const pct = job.status === 'done' ? 100 : iters > 0 ? Math.min(100, (100 * iter) / iters) : 0;
  el.fill.style.width = `${pct}%`;
  el.bar.setAttribute('aria-valuenow', pct.toFixed(0));
  const what = job.mode === 'fast' ? `${title(job.inputs?.content)} · ${title(job.params.model)} network` : `${title(job.inputs?.content)} × ${title(job.inputs?.styles?.[0])}`;
  el.stageTitle.textContent = what;
  el.stageTitle.title = what;

  let text = '';
  let rate = '';
  let eta = '';
  const took = job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : NaN;
  switch (job.status) {
    case 'queued':
      text = 'Waiting in the queue…';
      break;
    case 'running':
      if (job.mode === 'fast') text = 'Painting in one pass…';
      else text = `Iteration ${iter} / ${iters}`;
      if (v.rate && iter - v.rate.i0 >= 2) {
        const r = (iter - v.rate.i0) / ((now - v.rate.t0) / 1000);
        if (r > 0 && Number.isFinite(r)) {
          rate = r >= 10 ? `${r.toFixed(0)} it/s` : r >= 1 ? `${r.toFixed(1)} it/s` : `${(1 / r).toFixed(1)} s/it`;
          eta = `ETA ${duration((iters - iter) / r)}`;
        }
      }
      break;
    case 'done':
      text = job.mode === 'fast' ? 'Done' : `Done · ${iters} iterations`;
      if (Number.isFinite(took)) eta = `took ${duration(took)}`;
      break;
    case 'failed':
      text = `Failed: ${job.error ?? 'unknown error'}`;
      break;
    case 'cancelled':
      text = `Cancelled${iter ? ` at iteration ${iter}` : ''}`;
      break;
  }
  el.progressText.textContent = text;
  el.progressText.title = text;
  el.rate.textContent = rate;
  el.eta.textContent = eta;

  el.cancel.hidden = isFinal(job.status);
  if (job.status === 'done' && job.resultUrl) {
    el.download.href = job.resultUrl;
    el.download.setAttribute('download', `styleloom-${stem(job.inputs?.content)}-${job.id.slice(0, 8)}.png`);
    el.download.setAttribute('aria-disabled', 'false');
  } else {
    el.download.removeAttribute('href');
    el.download.setAttribute('aria-disabled', 'true');
  }
  el.compare.hidden = !jobContent.has(job.id);

  const loss = v.best ?? job.loss;
  el.lossTerms.replaceChildren();
  if (loss) {
    const term = (name: string, x: number, cls = '') => h('span', { class: `term ${cls}` }, name, h('b', {}, sci(x)));
    el.lossTerms.append(term('total', loss.total, 'total'), term('style', loss.style), term('content', loss.content), term('tv', loss.tv));
  }
}

// ---------- loss chart ----------

let chartQueued = false;
function scheduleChart() {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawChart();
  });
}

function drawChart() {
  const s = el.chartSvg;
  s.replaceChildren();
  const raw = (view?.losses ?? []).filter((x) => x > 0 && Number.isFinite(x));
  el.chartEmpty.hidden = raw.length >= 2;
  el.chartEmpty.textContent = view?.job.mode === 'fast' ? 'Fast mode has no loss to plot: it paints in one pass.' : 'The total loss per iteration is drawn here.';
  if (raw.length < 2) return;
  const W = el.chart.clientWidth;
  const H = el.chart.clientHeight;
  if (W < 40 || H < 40) return;
  s.setAttribute('viewBox', `0 0 ${W} ${H}`);
  // the best total so far (L-BFGS line-search trials can be far above it: drawn faintly, clipped)
  const best: number[] = [];
  for (const x of raw) best.push(Math.min(x, best.length ? best[best.length - 1] : Infinity));
  const pad = { l: 46, r: 10, t: 8, b: 20 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const n = Math.max(view?.job.progress.iters ?? 0, raw.length);
  let lo = Math.log10(best[best.length - 1]);
  let hi = Math.log10(best[0]);
  if (hi - lo < 1e-6) {
    lo -= 0.5;
    hi += 0.5;
  }
  const padY = (hi - lo) * 0.08;
  lo -= padY;
  hi += padY;
  const x = (i: number) => pad.l + (iw * i) / Math.max(1, n - 1);
  const y = (v: number) => pad.t + ih * (1 - (Math.log10(v) - lo) / (hi - lo));

  const defs = svg('defs');
  const stroke = svg('linearGradient', { id: 'loss-stroke', x1: 0, y1: 0, x2: 1, y2: 0 });
  stroke.append(svg('stop', { offset: 0, 'stop-color': '#5b5bf0' }), svg('stop', { offset: 1, 'stop-color': '#c04bf4' }));
  const area = svg('linearGradient', { id: 'loss-area', x1: 0, y1: 0, x2: 0, y2: 1 });
  area.append(svg('stop', { offset: 0, 'stop-color': '#7c6cf5', 'stop-opacity': 0.26 }), svg('stop', { offset: 1, 'stop-color': '#7c6cf5', 'stop-opacity': 0 }));
  const clip = svg('clipPath', { id: 'loss-clip' });
  clip.append(svg('rect', { x: pad.l, y: pad.t, width: iw, height: ih }));
  defs.append(stroke, area, clip);
  s.append(defs);

  // grid: powers of ten when the curve spans decades, else a few rounded values
  const ticks: { v: number; label: string }[] = [];
  if (hi - lo >= 1.5) {
    const every = Math.ceil((hi - lo) / 4);
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) if (e % every === 0 || every === 1) ticks.push({ v: e, label: `10${sup(e)}` });
  } else {
    // linear "nice" steps (1, 2, 5 × 10^k), about 3 of them, placed on the log axis
    const a = 10 ** lo;
    const b = 10 ** hi;
    const mag = 10 ** Math.floor(Math.log10((b - a) / 4));
    const count = (st: number) => Math.floor(b / st) - Math.ceil(a / st) + 1;
    const step = [1, 2, 5, 10, 20, 50]
      .map((m) => m * mag)
      .filter((st) => count(st) <= 5)
      .sort((p, q) => Math.abs(count(p) - 4) - Math.abs(count(q) - 4))[0];
    for (let val = Math.ceil(a / step) * step; val <= b; val += step) ticks.push({ v: Math.log10(val), label: sci(Number(val.toPrecision(6))) });
  }
  for (const tk of ticks) {
    const yy = pad.t + ih * (1 - (tk.v - lo) / (hi - lo));
    s.append(svg('line', { class: 'grid', x1: pad.l, x2: W - pad.r, y1: yy, y2: yy }));
    const t = svg('text', { x: pad.l - 8, y: yy + 3.5, 'text-anchor': 'end' });
    t.textContent = tk.label;
    s.append(t);
  }
  s.append(svg('line', { class: 'grid', x1: pad.l, x2: W - pad.r, y1: pad.t + ih, y2: pad.t + ih }));
  for (const i of [0, Math.round((n - 1) / 2), n - 1]) {
    const t = svg('text', { x: x(i), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' });
    t.textContent = String(i + 1);
    s.append(t);
  }

  const path = (vals: number[]) => {
    const step = Math.max(1, Math.floor(vals.length / (iw * 2))); // at most ~2 points per pixel
    const pts: string[] = [];
    for (let i = 0; i < vals.length; i += step) pts.push(`${x(i).toFixed(1)},${y(vals[i]).toFixed(1)}`);
    const last = vals.length - 1;
    if (last % step !== 0) pts.push(`${x(last).toFixed(1)},${y(vals[last]).toFixed(1)}`);
    return `M${pts.join('L')}`;
  };
  const last = best.length - 1;
  const g = svg('g', { 'clip-path': 'url(#loss-clip)' });
  if (raw.some((v, i) => v > best[i])) g.append(svg('path', { d: path(raw), class: 'line-raw' }));
  const line = path(best);
  g.append(svg('path', { d: `${line}L${x(last).toFixed(1)},${pad.t + ih}L${x(0).toFixed(1)},${pad.t + ih}Z`, fill: 'url(#loss-area)' }));
  g.append(svg('path', { d: line, class: 'line', stroke: 'url(#loss-stroke)' }));
  s.append(g);
  const cx = x(last);
  const cy = y(best[last]);
  s.append(svg('circle', { cx, cy, r: 7, fill: '#c04bf4', 'fill-opacity': 0.18 }));
  s.append(svg('circle', { cx, cy, r: 3.5, fill: '#c04bf4', stroke: '#fff', 'stroke-width': 1.5 }));
}

// ---------- history ----------

let historyTimer: ReturnType<typeof setTimeout> | undefined;
function throttledHistory() {
  if (historyTimer) return;
  historyTimer = setTimeout(() => {
    historyTimer = undefined;
    void refreshHistory();
  }, 2500);
}

async function refreshHistory() {
  let jobs: Job[];
  try {
    ({ jobs } = await api<{ jobs: Job[] }>('/api/jobs?limit=30'));
  } catch {
    return;
  }
  const list = el.history;
  list.replaceChildren();
  if (!jobs.length) {
    list.append(h('li', { class: 'history-empty' }, 'No jobs yet. Your results will be kept here.'));
    return;
  }
  for (const j of jobs) {
    const src = j.resultUrl ?? j.previewUrl;
    const thumb = src ? h('img', { class: 'history-thumb', src, alt: '', loading: 'lazy', decoding: 'async' }) : h('span', { class: 'history-thumb placeholder' });
    const name = j.mode === 'fast' ? `${title(j.inputs?.content)} · ${title(j.params.model)}` : `${title(j.inputs?.content)} × ${title(j.inputs?.styles?.[0])}`;
    const bits = [j.params.size ? `${j.params.size} px` : 'full size', j.mode === 'fast' ? 'fast' : `${j.params.iters} it`, ago(j.createdAt)];
    const status = j.status === 'running' && j.progress.iters ? `${Math.round((100 * j.progress.iter) / j.progress.iters)}%` : j.status;
    const b = h(
      'button',
      { type: 'button', class: 'history-item', 'data-id': j.id, 'aria-current': String(view?.id === j.id), title: `${name}\n${j.status}${j.error ? `: ${j.error}` : ''}` },
      thumb,
      h('span', { class: 'history-meta' }, h('span', { class: 'history-title' }, name), h('span', { class: 'history-sub' }, bits.join(' · '))),
      h('span', { class: 'badge', 'data-status': j.status }, status),
    );
    b.addEventListener('click', () => void openJob(j.id));
    list.append(h('li', {}, b));
  }
}

function markCurrent() {
  for (const b of el.history.querySelectorAll<HTMLElement>('.history-item')) b.setAttribute('aria-current', String(b.dataset.id === view?.id));
}

// ---------- server state ----------

async function refreshHealth() {
  try {
    const hl = await api<{ queue: { queued: number; running: number } }>('/api/health');
    const { running, queued } = hl.queue;
    el.serverPill.dataset.state = running ? 'busy' : 'ok';
    el.serverText.textContent = running ? `${running} running${queued ? ` · ${queued} queued` : ''}` : queued ? `${queued} queued` : 'Server ready';
  } catch {
    el.serverPill.dataset.state = 'down';
    el.serverText.textContent = 'Server unreachable';
  }
}

async function loadModels() {
  try {
    models = await api<Models>('/api/models');
  } catch (e) {
    toast(`could not read /api/models: ${(e as Error).message}`, 'error');
    return;
  }
  const { limits } = models;
  el.size.max = String(Math.min(1024, limits.maxSize));
  el.iters.max = String(Math.min(1000, limits.maxIters));
  el.model.replaceChildren(...models.fast.map((m) => h('option', { value: m.name }, title(m.name))));
  if (!models.fast.some((m) => m.name === fastModel)) fastModel = models.fast[0]?.name ?? '';
  el.model.value = fastModel;
  const segFast = document.querySelector<HTMLButtonElement>('.seg[data-mode="fast"]')!;
  const segGatys = document.querySelector<HTMLButtonElement>('.seg[data-mode="gatys"]')!;
  segFast.disabled = models.fast.length === 0;
  segGatys.disabled = !models.vgg.path;
  if (segFast.disabled) segFast.title = 'The server has no fast-style networks';
  if (segGatys.disabled) segGatys.title = models.vgg.error ?? 'The server has no VGG-19 weights';
  if (mode === 'fast' && segFast.disabled) mode = 'gatys';
  if (mode === 'gatys' && segGatys.disabled && !segFast.disabled) mode = 'fast';
  setMode(mode);
  renderSettings();
}

async function loadSamples() {
  try {
    ({ samples } = await api<{ samples: Sample[] }>('/api/samples'));
  } catch {
    samples = [];
  }
  $('samples').hidden = samples.length === 0;
  markThumbs();
  renderStyleTile();
}

// ---------- wiring ----------

function init() {
  if (DEV) {
    // lower minimums for quick tests (?dev)
    el.size.min = '32';
    el.size.step = '16';
    el.iters.min = '2';
    el.iters.step = '1';
  }
  loadSettings();
  for (const s of [el.styleWeight, el.size, el.iters])
    s.addEventListener('input', () => {
      renderSettings();
      saveSettings();
    });
  el.originalColors.addEventListener('change', saveSettings);
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg')) b.addEventListener('click', () => setMode(b.dataset.mode as Mode));
  el.model.addEventListener('change', () => selectModel(el.model.value));
  wireDrop('content');
  wireDrop('style');
  // a file dropped beside the tiles must not replace the page
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  el.startBtn.addEventListener('click', () => void start());
  el.cancel.addEventListener('click', async () => {
    if (!view) return;
    el.cancel.disabled = true;
    try {
      const job = await api<Job>(`/api/jobs/${view.id}`, { method: 'DELETE' });
      if (view && view.id === job.id && isFinal(job.status)) {
        view.job = { ...job, lossHistory: view.job.lossHistory };
        renderJob();
      }
      void refreshHistory();
    } catch (e) {
      toast((e as Error).message, 'error');
    } finally {
      el.cancel.disabled = false;
    }
  });
  // hold to see the original photo
  let held: string | null = null;
  const showOriginal = () => {
    const url = view && jobContent.get(view.id);
    if (!url || el.stageImg.hidden) return;
    held = el.stageImg.src;
    el.stageImg.src = url;
  };
  const restore = () => {
    if (held) el.stageImg.src = held;
    held = null;
  };
  el.compare.addEventListener('pointerdown', showOriginal);
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) el.compare.addEventListener(ev, restore);
  $('history-refresh').addEventListener('click', () => void refreshHistory());
  new ResizeObserver(() => scheduleChart()).observe(el.chart);
  new ResizeObserver(() => fitStage()).observe(el.stage);
  setInterval(() => {
    if (document.visibilityState === 'visible') {
      void refreshHealth();
      if (view && !isFinal(view.job.status)) renderJob();
    }
  }, 5000);

  renderSettings();
  setMode(mode);
  void loadModels();
  void loadSamples();
  void refreshHealth();
  void refreshHistory();
  const m = /^#job=([0-9a-f-]{36})$/.exec(location.hash);
  if (m) void openJob(m[1]);
}

init();
