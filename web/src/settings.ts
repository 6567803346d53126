// The settings card: the sliders' read-outs, the Optimisation / Fast / Sound / Video switch, the fast network list,
// and which of them the server's models allow (GET /api/models).
import type { JobMode, ModelsView } from '../../src/server/api-types.js';
import { saveWhere } from './device.js';
import { getModels } from './api.js';
import { applyServerLimits, paintSlider, sliderInputs, styleWeight } from './controls.js';
import { $, h, toast } from './dom.js';
import { el } from './elements.js';
import { pow10, title } from './format.js';
import { saveSettings } from './persist.js';
import { renderStyleThumbs, renderStyleTile, selectModel } from './pickers.js';
import { updateStart } from './start.js';
import { state, type Where } from './state.js';
import { showVideoMode } from './video.js';

export function renderSettings() {
  $('style-weight-out').textContent = pow10(styleWeight());
  $('size-out').textContent = `${el.size.value} px`;
  $('iters-out').textContent = el.iters.value;
  $('frame-iters-out').textContent = el.frameIters.value;
  for (const s of sliderInputs()) paintSlider(s);
  updateStart();
}

export function setMode(m: JobMode) {
  state.mode = m;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-mode]')) b.setAttribute('aria-checked', String(b.dataset.mode === m));
  const fast = m === 'fast';
  const sound = m === 'audio';
  const video = m === 'video';
  $('field-model').hidden = !fast;
  // sound jobs use the audio command's defaults but for the iterations (its style weight is on another scale)
  $('field-style-weight').hidden = fast || sound;
  $('field-iters').hidden = fast;
  $('field-size').hidden = sound;
  $('field-original-colors').hidden = sound;
  $('field-iters').parentElement!.classList.toggle('single', fast || sound);
  $('images-card').hidden = sound;
  $('sound-card').hidden = !sound;
  $('mask-card').hidden = sound || video;
  showVideoMode(video);
  $('style-label').textContent = fast ? 'Network' : 'Style';
  $('drop-style').classList.toggle('locked', fast);
  $<HTMLInputElement>('file-style').disabled = fast;
  renderStyleThumbs();
  renderStyleTile();
  updateStart();
  saveSettings();
}

/** On the server (jobs on the API) or on this device (the browser bundle, nothing uploaded). */
export function setWhere(w: Where) {
  state.where = w;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-where]')) b.setAttribute('aria-checked', String(b.dataset.where === w));
  $('field-weights').hidden = w !== 'device';
  // the fast networks and sound jobs live on the server
  const segFast = document.querySelector<HTMLButtonElement>('.seg[data-mode="fast"]')!;
  const segGatys = document.querySelector<HTMLButtonElement>('.seg[data-mode="gatys"]')!;
  document.querySelector<HTMLButtonElement>('.seg[data-mode="audio"]')!.disabled = w === 'device';
  document.querySelector<HTMLButtonElement>('.seg[data-mode="video"]')!.disabled = w === 'device';
  if (w === 'device') {
    segFast.disabled = true;
    segGatys.disabled = false;
    if (state.mode === 'fast' || state.mode === 'audio' || state.mode === 'video') setMode('gatys');
  } else if (state.models) {
    segFast.disabled = state.models.fast.length === 0;
    segGatys.disabled = !state.models.vgg.name;
  } else segFast.disabled = false;
  updateStart();
  saveWhere();
}

/** Sliders, colour switch, mode buttons and network list: re-render and save on every change. */
export function wireSettings() {
  for (const s of sliderInputs())
    s.addEventListener('input', () => {
      renderSettings();
      saveSettings();
    });
  el.originalColors.addEventListener('change', saveSettings);
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-mode]')) b.addEventListener('click', () => setMode(b.dataset.mode as JobMode));
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-where]')) b.addEventListener('click', () => setWhere(b.dataset.where as Where));
  el.weightsUrl.addEventListener('input', () => {
    saveWhere();
    updateStart();
  });
  el.model.addEventListener('change', () => selectModel(el.model.value));
}

export async function loadModels() {
  let models: ModelsView;
  try {
    models = await getModels();
  } catch (e) {
    toast(`could not read /api/models: ${(e as Error).message}`, 'error');
    return;
  }
  state.models = models;
  applyServerLimits(models.limits);
  el.model.replaceChildren(...models.fast.map((m) => h('option', { value: m.name }, m.title ?? title(m.name))));
  if (!models.fast.some((m) => m.name === state.fastModel)) state.fastModel = models.fast[0]?.name ?? '';
  el.model.value = state.fastModel;
  const segFast = document.querySelector<HTMLButtonElement>('.seg[data-mode="fast"]')!;
  const segGatys = document.querySelector<HTMLButtonElement>('.seg[data-mode="gatys"]')!;
  segFast.disabled = models.fast.length === 0;
  segGatys.disabled = !models.vgg.name;
  if (segFast.disabled) segFast.title = 'The server has no fast-style networks';
  if (segGatys.disabled) segGatys.title = models.vgg.error ?? 'The server has no VGG-19 weights';
  if (state.mode === 'fast' && segFast.disabled) state.mode = 'gatys';
  if (state.mode === 'gatys' && segGatys.disabled && !segFast.disabled) state.mode = 'fast';
  setMode(state.mode);
  if (state.where === 'device') setWhere('device');
  renderSettings();
}
