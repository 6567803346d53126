// The Stylise button: whether a job can start (and the hint line under it saying what is missing
// or what will run), and starting the job on the API.
import { apiName } from '../../src/options/names.js';
import { createJob } from './api.js';
import { styleWeight } from './controls.js';
import { toast } from './dom.js';
import { el } from './elements.js';
import { pow10, title } from './format.js';
import { refreshHistory } from './history-list.js';
import { openJob } from './job-stream.js';
import { refreshHealth } from './server-status.js';
import { jobContent, picked, state, type Picked } from './state.js';
import { runOnDevice } from './device.js';
import { maskBlob, maskMode } from './mask-editor.js';
import { soundForm, soundStart } from './sound.js';
import { videoForm, videoStart } from './video.js';

export function updateStart() {
  const { models, mode, fastModel } = state;
  const noVgg = models !== null && !models.vgg.name;
  let hint = '';
  let ok = false;
  if (mode === 'audio') ({ ok, hint } = soundStart());
  else if (mode === 'video') ({ ok, hint } = videoStart());
  else if (state.where === 'device') {
    if (!el.weightsUrl.value.trim()) hint = 'Give the URL of VGG-19 weights (safetensors) to run on this device.';
    else if (!picked.content && !picked.style) hint = 'Choose a photo and a painting.';
    else if (!picked.content) hint = 'Now choose a photo.';
    else if (!picked.style) hint = 'Now choose a painting.';
    else {
      ok = true;
      hint = `${el.size.value} px · ${el.iters.value} iterations · on this device, nothing uploaded`;
    }
  } else if (mode === 'gatys') {
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

/** Submits a job and puts it on the stage. */
async function submit(fd: FormData, contentUrl?: string) {
  el.startBtn.disabled = true;
  el.startText.textContent = 'Starting…';
  try {
    const { id } = await createJob(fd);
    if (contentUrl) jobContent.set(id, contentUrl);
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

export async function start() {
  if (state.mode === 'audio' || state.mode === 'video') {
    const fd = state.mode === 'audio' ? soundForm() : videoForm();
    return fd ? submit(fd) : undefined;
  }
  const content = picked.content;
  if (!content) return;
  if (state.where === 'device') return startOnDevice(content);
  const fd = new FormData();
  fd.append('content', content.blob, content.name);
  if (state.mode === 'fast') {
    fd.append('mode', 'fast');
    fd.append(apiName('model'), state.fastModel);
  } else {
    const style = picked.style;
    if (!style) return;
    fd.append('style', style.blob, style.name);
    fd.append(apiName('iters'), el.iters.value);
    fd.append(apiName('styleWeight'), String(styleWeight()));
  }
  const mask = await maskBlob();
  if (mask) {
    fd.append('mask', mask, 'mask.png');
    if (state.mode === 'gatys') fd.append(apiName('maskMode'), maskMode());
  }
  fd.append(apiName('size'), el.size.value);
  fd.append(apiName('originalColors'), el.originalColors.checked ? 'true' : 'false');
  await submit(fd, content.url);
}

async function startOnDevice(content: Picked) {
  const style = picked.style;
  if (!style) return;
  el.startBtn.disabled = true;
  try {
    await runOnDevice(content, style, { size: Number(el.size.value), iters: Number(el.iters.value), styleWeight: styleWeight(), originalColors: el.originalColors.checked });
  } finally {
    updateStart();
  }
}
