// Opening a job on the stage and following it live over Server-Sent Events (state, progress with
// the loss, previews, a video job's frames) until it ends; and cancelling it.
import { isFinal } from '../../src/server/api-types.js';
import type { JobView, VideoProgress } from '../../src/server/api-types.js';
import type { LossTerms } from '../../src/loss/types.js';
import { cancelJob, getJob } from './api.js';
import { cancelOnDevice } from './device.js';
import { drawChart, scheduleChart } from './chart.js';
import { toast } from './dom.js';
import { el } from './elements.js';
import { markCurrent, refreshHistory, throttledHistory } from './history-list.js';
import { refreshHealth } from './server-status.js';
import { renderJob, showImage } from './job-view.js';
import { resultPicture } from './sound.js';
import { onVideoEvent } from './video.js';
import { state, type View } from './state.js';

/** The data of the stream's `progress` events. */
type ProgressData = JobView['progress'] & { loss: LossTerms | null };
/** The data of the stream's `preview` events. */
type PreviewData = { iter: number; url: string };

function closeStream() {
  state.view?.es?.close();
  if (state.view) state.view.es = undefined;
}

export async function openJob(id: string) {
  closeStream();
  let job: JobView;
  try {
    job = await getJob(id);
  } catch (e) {
    toast(`job ${id.slice(0, 8)}: ${(e as Error).message}`, 'error');
    return;
  }
  const view: View = { id, job, losses: job.lossHistory ?? [], previewIter: -1, imageSeq: 0 };
  state.view = view;
  history.replaceState(null, '', `#job=${id}`);
  el.stageImg.hidden = true;
  el.stageImg.removeAttribute('src');
  el.stageBadge.hidden = true;
  el.stageEmpty.hidden = false;
  renderJob();
  drawChart();
  markCurrent();
  const picture = resultPicture(job);
  if (picture) showImage(picture, 'result');
  else if (job.previewUrl) showImage(job.previewUrl, 'preview', job.progress.iter);
  if (!isFinal(job.status)) subscribe(view);
}

function subscribe(v: View) {
  const es = new EventSource(v.job.eventsUrl);
  v.es = es;
  const mine = () => state.view === v;
  es.addEventListener('state', (e) => {
    if (!mine()) return es.close();
    const job = JSON.parse((e as MessageEvent).data) as JobView;
    const wasRunning = v.job.status;
    v.job = job;
    if (job.lossHistory) v.losses = job.lossHistory;
    renderJob();
    scheduleChart();
    if (isFinal(job.status)) {
      es.close();
      v.es = undefined;
      const picture = resultPicture(job);
      if (job.status === 'done' && picture) showImage(picture, 'result');
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
    const p = JSON.parse((e as MessageEvent).data) as ProgressData;
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
  es.addEventListener('video', (e) => {
    if (!mine()) return es.close();
    const p = JSON.parse((e as MessageEvent).data) as VideoProgress;
    onVideoEvent(v.id, p);
    v.job.progress = { iter: p.iter < p.iters ? p.frame - 1 : p.frame, iters: p.frames };
    if (v.job.status === 'queued') v.job.status = 'running';
    renderJob();
  });
  es.addEventListener('preview', (e) => {
    if (!mine()) return es.close();
    const p = JSON.parse((e as MessageEvent).data) as PreviewData;
    showImage(p.url, 'preview', p.iter);
    throttledHistory();
  });
}

/** The Cancel button: cancels the job on the stage and shows its final state. */
export async function cancelCurrent() {
  if (!state.view) return;
  if (state.view.local) return cancelOnDevice(state.view);
  el.cancel.disabled = true;
  try {
    const job = await cancelJob(state.view.id);
    if (state.view && state.view.id === job.id && isFinal(job.status)) {
      state.view.job = { ...job, lossHistory: state.view.job.lossHistory };
      renderJob();
    }
    void refreshHistory();
  } catch (e) {
    toast((e as Error).message, 'error');
  } finally {
    el.cancel.disabled = false;
  }
}
