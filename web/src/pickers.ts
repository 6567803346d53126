// The two image tiles (content photo, style painting or fast network), filled from a file, a drop
// or one of the server's samples; the sample thumbnails and the fast network choice.
import type { Sample } from '../../src/server/api-types.js';
import { getSamples } from './api.js';
import { $, h, toast } from './dom.js';
import { el } from './elements.js';
import { stem, title } from './format.js';
import { saveSettings } from './persist.js';
import { updateStart } from './start.js';
import { refreshMaskPhoto } from './mask-editor.js';
import { jobContent, picked, state, type Role } from './state.js';

/** Paintings among the samples: by name (the server's sample folder mixes photos and paintings). */
const PAINTING = /starry|scream|wave|udnie|shipwreck|turner|monet|muse|mosaic|candy|composition|kandinsky|picasso|gogh|painting|style/i;

export function setPicked(role: Role, blob: Blob, name: string, sample?: string) {
  const maxMb = state.models?.limits.maxUploadMb ?? 25;
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
  if (role === 'content') refreshMaskPhoto();
  markThumbs();
  updateStart();
}

export function renderTile(role: Role, override?: { src: string; name: string }) {
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

export function renderStyleTile() {
  if (state.mode === 'fast') {
    const s = sampleForModel(state.fastModel);
    if (s) renderTile('style', { src: s.thumbUrl, name: title(state.fastModel) });
    else {
      const tile = $('drop-style');
      tile.classList.remove('has-image');
      tile.querySelector<HTMLImageElement>('.drop-img')!.hidden = true;
      tile.querySelector<HTMLElement>('.drop-empty')!.hidden = false;
      tile.querySelector<HTMLElement>('.drop-name')!.textContent = state.fastModel ? title(state.fastModel) : 'none';
    }
  } else renderTile('style');
}

/** The painting a network learned: a built-in network names it (its `style`), else a sample whose name holds the network's. */
function sampleForModel(model: string): Sample | undefined {
  if (!model) return undefined;
  const style = state.models?.fast.find((f) => f.name === model)?.style;
  if (style) return state.samples.find((s) => s.name === style);
  const m = model.toLowerCase();
  return state.samples.find((s) => PAINTING.test(s.name) && stem(s.name).toLowerCase().includes(m));
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
  const paintings = state.samples.filter((s) => PAINTING.test(s.name));
  const photos = state.samples.filter((s) => !PAINTING.test(s.name));
  return paintings.length && photos.length ? { photos, paintings } : { photos: state.samples, paintings: state.samples };
}

function renderContentThumbs() {
  const box = $('thumbs-content');
  box.replaceChildren();
  const { photos } = splitSamples();
  for (const s of photos) box.append(thumbButton(s.name, s.thumbUrl, `Use ${title(s.name)} as the photo`, picked.content?.sample === s.name, () => void pickSample('content', s)));
  if (!photos.length) box.append(h('span', { class: 'thumbs-empty' }, 'No samples on this server.'));
  box.dataset.names = photos.map((s) => s.name).join(',');
}

export function renderStyleThumbs() {
  const box = $('thumbs-style');
  box.replaceChildren();
  const label = $('samples-style-row').querySelector('.samples-label')!;
  if (state.mode === 'fast') {
    label.textContent = 'Networks';
    for (const m of state.models?.fast ?? []) {
      const s = sampleForModel(m.name);
      box.append(thumbButton(m.name, s?.thumbUrl ?? '', `Use the ${m.title ?? title(m.name)} network${m.builtin ? ' (built in)' : ''}`, m.name === state.fastModel, () => selectModel(m.name), s ? undefined : m.name));
    }
    if (!state.models?.fast.length) box.append(h('span', { class: 'thumbs-empty' }, 'No fast-style networks on this server.'));
    return;
  }
  label.textContent = 'Paintings';
  const { paintings } = splitSamples();
  for (const s of paintings) box.append(thumbButton(s.name, s.thumbUrl, `Use ${title(s.name)} as the style`, picked.style?.sample === s.name, () => void pickSample('style', s)));
  if (!paintings.length) box.append(h('span', { class: 'thumbs-empty' }, 'No samples on this server.'));
}

export function markThumbs() {
  renderContentThumbs();
  renderStyleThumbs();
}

export function selectModel(name: string) {
  state.fastModel = name;
  el.model.value = name;
  renderStyleThumbs();
  renderStyleTile();
  updateStart();
  saveSettings();
}

export function wireDrop(role: Role) {
  const tile = $(`drop-${role}`);
  const input = $<HTMLInputElement>(`file-${role}`);
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) setPicked(role, f, f.name);
    input.value = '';
  });
  tile.addEventListener('dragenter', (e) => {
    if (role === 'style' && state.mode === 'fast') return;
    e.preventDefault();
    tile.classList.add('dragover');
  });
  tile.addEventListener('dragover', (e) => {
    if (role === 'style' && state.mode === 'fast') return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  tile.addEventListener('dragleave', () => tile.classList.remove('dragover'));
  tile.addEventListener('drop', (e) => {
    e.preventDefault();
    tile.classList.remove('dragover');
    if (role === 'style' && state.mode === 'fast') return;
    const f = e.dataTransfer?.files?.[0];
    if (f) setPicked(role, f, f.name);
  });
}

export async function loadSamples() {
  try {
    state.samples = (await getSamples()).samples;
  } catch {
    state.samples = [];
  }
  $('samples').hidden = state.samples.length === 0;
  markThumbs();
  renderStyleTile();
}
