// The history card: the server's last 30 jobs (thumbnail, title, size and status), each reopening
// its job on click; refreshed on demand and, during a run, at most every 2.5 s.
import type { JobView } from '../../src/server/api-types.js';
import { listJobs } from './api.js';
import { h } from './dom.js';
import { el } from './elements.js';
import { ago, title } from './format.js';
import { state } from './state.js';
import { resultPicture } from './sound.js';

/** What a click on a past job does (set by main: open it on the stage). */
let openJob: (id: string) => void = () => {};
export function onHistoryOpen(open: (id: string) => void) {
  openJob = open;
}

let historyTimer: ReturnType<typeof setTimeout> | undefined;
export function throttledHistory() {
  if (historyTimer) return;
  historyTimer = setTimeout(() => {
    historyTimer = undefined;
    void refreshHistory();
  }, 2500);
}

export async function refreshHistory() {
  let jobs: JobView[];
  try {
    ({ jobs } = await listJobs(30));
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
    const src = resultPicture(j) ?? j.previewUrl;
    const thumb = src ? h('img', { class: 'history-thumb', src, alt: '', loading: 'lazy', decoding: 'async' }) : h('span', { class: 'history-thumb placeholder' });
    const model = 'model' in j.params ? j.params.model : undefined;
    const iters = 'iters' in j.params ? j.params.iters : undefined;
    const name = j.mode === 'fast' ? `${title(j.inputs?.content)} · ${title(model)}` : `${title(j.inputs?.content)} × ${title(j.inputs?.styles?.[0])}`;
    const size = 'size' in j.params ? j.params.size : undefined;
    const kind = j.mode === 'audio' ? `sound${j.duration ? `, ${j.duration.toFixed(1)} s` : ''}` : j.mode === 'video' ? `video, ${j.frames ?? '?'} frames` : size ? `${size} px` : 'full size';
    const bits = [kind, j.mode === 'fast' || ('engine' in j.params && j.params.engine === 'fast') ? 'fast' : `${iters} it`, ago(j.createdAt)];
    const status = j.status === 'running' && j.progress.iters ? `${Math.round((100 * j.progress.iter) / j.progress.iters)}%` : j.status;
    const b = h(
      'button',
      { type: 'button', class: 'history-item', 'data-id': j.id, 'aria-current': String(state.view?.id === j.id), title: `${name}\n${j.status}${j.error ? `: ${j.error}` : ''}` },
      thumb,
      h('span', { class: 'history-meta' }, h('span', { class: 'history-title' }, name), h('span', { class: 'history-sub' }, bits.join(' · '))),
      h('span', { class: 'badge', 'data-status': j.status }, status),
    );
    b.addEventListener('click', () => openJob(j.id));
    list.append(h('li', {}, b));
  }
}

/** Marks the job on the stage in the list. */
export function markCurrent() {
  for (const b of el.history.querySelectorAll<HTMLElement>('.history-item')) b.setAttribute('aria-current', String(b.dataset.id === state.view?.id));
}
