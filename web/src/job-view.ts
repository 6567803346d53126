// The job on the stage: its picture (previews swapped in without flicker, fitted to the stage), and
// its status chip, progress bar, rate and ETA, buttons and loss terms; plus "hold to compare".
import { isFinal } from '../../src/server/api-types.js';
import { h } from './dom.js';
import { el } from './elements.js';
import { duration, sci, stem, title } from './format.js';
import { optimiserIters, renderSoundResult } from './sound.js';
import { renderVideoResult, videoProgress } from './video.js';
import { jobContent, state } from './state.js';

/** Loads an image off-screen, then swaps it in (no flicker); older previews never replace newer ones. */
export function showImage(url: string, kind: 'preview' | 'result', iter = 0) {
  const v = state.view;
  if (!v) return;
  if (kind === 'preview' && iter <= v.previewIter) return;
  if (v.job.mode === 'video' && v.job.status === 'done') return; // the result plays in the video element
  if (kind === 'preview') v.previewIter = iter;
  const seq = ++v.imageSeq;
  const img = new Image();
  img.decoding = 'async';
  img.onload = () => {
    if (state.view !== v || seq < v.imageSeq) return;
    if (v.job.mode === 'video' && v.job.status === 'done') return;
    el.stageImg.src = url;
    el.stageImg.dataset.kind = kind;
    el.stageImg.dataset.w = String(img.naturalWidth);
    el.stageImg.dataset.h = String(img.naturalHeight);
    el.stageImg.hidden = false;
    el.stageEmpty.hidden = true;
    fitStage();
    const sound = v.job.mode === 'audio';
    el.stageBadge.hidden = sound && kind === 'result'; // the sheet labels its own panels
    el.stageBadge.textContent =
      kind === 'result'
        ? sound
          ? 'Spectrograms · content, style, result'
          : `Result · ${img.naturalWidth} × ${img.naturalHeight}`
        : v.job.mode === 'video'
          ? `Frame ${iter} of ${v.job.frames ?? v.job.progress.iters} · done`
          : `Live ${sound ? 'spectrogram' : 'preview'} · iteration ${iter}`;
  };
  img.src = url;
}

/** Shows the picture as large as the stage allows (small previews scaled up, at most 3x). */
export function fitStage() {
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

export function renderJob() {
  const v = state.view;
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
  const model = 'model' in job.params ? job.params.model : undefined;
  const what = job.mode === 'fast' ? `${title(job.inputs?.content)} · ${title(model)} network` : `${title(job.inputs?.content)} × ${title(job.inputs?.styles?.[0])}`;
  renderSoundResult(job);
  renderVideoResult(job);
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
      if (job.mode === 'video') ({ text, rate, eta } = videoProgress(job));
      else if (job.mode === 'fast') text = 'Painting in one pass…';
      else if (iter > optimiserIters(job)) text = `Phase (Griffin-Lim) ${iter - optimiserIters(job)} / ${iters - optimiserIters(job)}`;
      else text = `Iteration ${iter} / ${optimiserIters(job)}`;
      if (job.mode !== 'video' && v.rate && iter - v.rate.i0 >= 2) {
        const r = (iter - v.rate.i0) / ((now - v.rate.t0) / 1000);
        if (r > 0 && Number.isFinite(r)) {
          rate = r >= 10 ? `${r.toFixed(0)} it/s` : r >= 1 ? `${r.toFixed(1)} it/s` : `${(1 / r).toFixed(1)} s/it`;
          eta = `ETA ${duration((iters - iter) / r)}`;
        }
      }
      break;
    case 'done':
      text =
        job.mode === 'fast'
          ? 'Done'
          : job.mode === 'audio'
            ? `Done · ${job.duration?.toFixed(1) ?? '?'} s of sound`
            : job.mode === 'video'
              ? `Done · ${job.frames ?? iters} frames at ${job.fps ?? '?'} fps`
              : `Done · ${iters} iterations`;
      if (Number.isFinite(took)) eta = `took ${duration(took)}`;
      break;
    case 'failed':
      text = `Failed: ${job.error ?? 'unknown error'}`;
      break;
    case 'cancelled':
      text = `Cancelled${iter ? ` at ${job.mode === 'video' ? 'frame' : 'iteration'} ${iter}` : ''}`;
      break;
  }
  el.progressText.textContent = text;
  el.progressText.title = text;
  el.rate.textContent = rate;
  el.eta.textContent = eta;

  el.cancel.hidden = isFinal(job.status);
  if (job.status === 'done' && job.resultUrl) {
    el.download.href = job.resultUrl;
    el.download.setAttribute('download', `styleloom-${stem(job.inputs?.content)}-${job.id.slice(0, 8)}.${job.mode === 'audio' ? 'wav' : job.mode === 'video' ? 'mp4' : 'png'}`);
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
    el.lossTerms.append(term('total', loss.total, 'total'), term('style', loss.style), term('content', loss.content));
    if (job.mode !== 'audio') el.lossTerms.append(term('tv', loss.tv));
  }
}

/** "Hold to compare": the original photo while the button is held (jobs started from this page). */
export function wireCompare() {
  let held: string | null = null;
  const showOriginal = () => {
    const url = state.view && jobContent.get(state.view.id);
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
}
