// Video mode of the page (mode=video): the Clip card (a clip to repaint, playable before it is sent; the
// engine: optimisation with the painting of the Images card, or fast with a server network; iterations of
// the later frames; temporal consistency), the `video` events (frame i of N, s/frame, ETA), and the result
// MP4 in a <video> element on the stage.
import { apiName } from '../../src/options/names.js';
import { rowOf } from '../../src/options/table.js';
import type { JobView, VideoProgress } from '../../src/server/api-types.js';
import { styleWeight } from './controls.js';
import { $, toast } from './dom.js';
import { el } from './elements.js';
import { duration, title } from './format.js';
import { picked, state } from './state.js';

export type Engine = 'gatys' | 'fast';

let clip: { file: File; url: string } | undefined;
let engine: Engine = 'gatys';
/** The latest `video` event of the job on the stage. */
let latest: { id: string; p: VideoProgress } | undefined;

export const videoEngine = (): Engine => engine;

/** Shows the card's parts for the engine: the painting (Images card) for gatys, the network list for fast. */
export function setEngine(e: Engine) {
  engine = e;
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-engine]')) b.setAttribute('aria-checked', String(b.dataset.engine === e));
  if (state.mode !== 'video') return;
  $('images-card').hidden = e === 'fast';
  $('field-model').hidden = e !== 'fast';
  $('field-style-weight').hidden = e === 'fast';
  $('field-iters').hidden = e === 'fast';
  $('field-frame-iters').hidden = e === 'fast';
  $('field-blend').hidden = e !== 'fast';
  $('field-long-term').hidden = e === 'fast';
}

/** The "part of the clip" fields: input, option key, and how an empty input reads (left out: the library's default). */
const MORE = [
  ['video-start', 'start'],
  ['video-duration', 'duration'],
  ['video-fps', 'fps'],
  ['video-long-term', 'longTerm'],
  ['video-blend', 'blendWeight'],
] as const;

/** Gives the fields their ranges and defaults from the option table (min, max, default of each row). */
function applyVideoRanges() {
  for (const [id, key] of MORE) {
    const input = $<HTMLInputElement>(id);
    const r = rowOf(key);
    if (input.type !== 'text') {
      if (r.min !== undefined) input.min = String(r.min);
      if (r.max !== undefined) input.max = String(r.max);
      input.step = key === 'blendWeight' ? '0.05' : 'any';
    }
    if (r.default !== undefined) input.value = Array.isArray(r.default) ? r.default.join(',') : String(r.default);
    input.title = r.doc.replace(/\{(\w+)\}/g, '$1');
  }
  const blend = $<HTMLInputElement>('video-blend');
  const show = () => ($('video-blend-out').textContent = Number(blend.value).toFixed(2));
  blend.addEventListener('input', show);
  show();
}

/** The mode switch's part for video: the Clip card, the image pickers without the photo. */
export function showVideoMode(on: boolean) {
  $('video-card').hidden = !on;
  $('drop-content').hidden = on;
  $('samples-content-row').hidden = on;
  if (!on) $('field-frame-iters').hidden = true;
  else setEngine(engine);
}

function pick(file: File | undefined, onChange: () => void) {
  if (!file) return;
  const maxMb = state.models?.limits.maxUploadMb ?? 25;
  if (file.size > maxMb * 1024 * 1024) return toast(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the server takes at most ${maxMb} MB`, 'error');
  if (file.type && !file.type.startsWith('video/') && file.type !== 'image/gif') return toast(`${file.name} is not a video file`, 'error');
  if (clip) URL.revokeObjectURL(clip.url);
  clip = { file, url: URL.createObjectURL(file) };
  const player = $<HTMLVideoElement>('video-player');
  player.src = clip.url;
  player.hidden = false;
  $('video-name').textContent = file.name;
  onChange();
}

/** The clip input and the engine buttons. */
export function wireVideo(onChange: () => void) {
  applyVideoRanges();
  const input = $<HTMLInputElement>('file-video');
  input.addEventListener('change', () => pick(input.files?.[0], onChange));
  for (const b of document.querySelectorAll<HTMLButtonElement>('.seg[data-engine]'))
    b.addEventListener('click', () => {
      setEngine(b.dataset.engine as Engine);
      onChange();
    });
}

/** Whether a video job can start, and the hint line under the button. */
export function videoStart(): { ok: boolean; hint: string } {
  const limits = state.models?.limits;
  const within = limits ? ` · at most ${limits.maxVideoSeconds} s` : '';
  if (!clip) return { ok: false, hint: `Choose a clip to repaint${within}.` };
  if (engine === 'fast') {
    if (!state.fastModel) return { ok: false, hint: 'The server has no fast-style networks.' };
    return { ok: true, hint: `${el.size.value} px · ${title(state.fastModel)} network on every frame` };
  }
  if (!picked.style) return { ok: false, hint: 'Now choose a painting.' };
  return { ok: true, hint: `${el.size.value} px · ${el.iters.value} iterations, then ${el.frameIters.value} a frame` };
}

/** The multipart body of a video job (the library's defaults for everything not on the page). */
export function videoForm(): FormData | undefined {
  if (!clip) return undefined;
  const fd = new FormData();
  fd.append('mode', 'video');
  fd.append('content', clip.file, clip.file.name);
  fd.append(apiName('mode'), engine);
  fd.append(apiName('size'), el.size.value);
  fd.append(apiName('originalColors'), el.originalColors.checked ? 'true' : 'false');
  fd.append(apiName('temporal'), $<HTMLInputElement>('temporal').checked ? 'true' : 'false');
  // the part of the clip and the consistency fields: each sent when set (the server checks them against the same rows)
  for (const [id, key] of MORE) {
    const v = $<HTMLInputElement>(id).value.trim();
    if (v === '' || (key === 'blendWeight' && engine !== 'fast') || (key === 'longTerm' && engine === 'fast')) continue;
    fd.append(apiName(key), v);
  }
  if (engine === 'fast') fd.append(apiName('model'), state.fastModel);
  else {
    if (!picked.style) return undefined;
    fd.append('style', picked.style.blob, picked.style.name);
    fd.append(apiName('iters'), el.iters.value);
    fd.append(apiName('frameIters'), el.frameIters.value);
    fd.append(apiName('styleWeight'), String(styleWeight()));
  }
  return fd;
}

/** A `video` event of the job on the stage. */
export function onVideoEvent(id: string, p: VideoProgress) {
  latest = { id, p };
}

/** The progress line, rate and ETA of a running video job. */
export function videoProgress(job: JobView): { text: string; rate: string; eta: string } {
  const p = latest?.id === job.id ? latest.p : undefined;
  if (!p) return { text: `Frame ${Math.min(job.progress.iter + 1, job.progress.iters)} of ${job.progress.iters}`, rate: '', eta: '' };
  const within = p.iters > 1 ? ` · iteration ${p.iter} / ${p.iters}` : '';
  return {
    text: `Frame ${p.frame} of ${p.frames}${within}`,
    rate: p.sPerFrame > 0 ? `${p.sPerFrame.toFixed(p.sPerFrame < 10 ? 1 : 0)} s/frame` : '',
    eta: p.etaS === null ? '' : `ETA ${duration(p.etaS)}`,
  };
}

/** The result on the stage: the finished video job's MP4 in the <video> element, in place of the picture. */
export function renderVideoResult(job: JobView | undefined) {
  const player = $<HTMLVideoElement>('stage-video');
  const url = job?.mode === 'video' && job.status === 'done' ? job.resultUrl : undefined;
  player.hidden = !url;
  if (!url) {
    if (player.getAttribute('src')) {
      player.removeAttribute('src');
      player.load();
    }
    return;
  }
  el.stageImg.hidden = true;
  el.stageEmpty.hidden = true;
  el.stageBadge.hidden = false;
  el.stageBadge.textContent = `Result · ${job!.frames ?? '?'} frames · ${job!.width} × ${job!.height}`;
  if (player.getAttribute('src') !== url) player.src = url;
}
