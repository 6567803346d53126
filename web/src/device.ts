// "On this device": the Gatys loop of the browser bundle (built into the page's browser/ folder) run in
// this tab: nothing uploaded, the weights fetched from a URL (kept in the browser's cache), and the
// progress, live preview, loss chart, result and Cancel shown on the stage like a server job.
import type { JobView } from '../../src/server/api-types.js';
import { drawChart, scheduleChart } from './chart.js';
import { toast } from './dom.js';
import { el } from './elements.js';
import { renderJob, showImage } from './job-view.js';
import { state, type Picked, type View, type Where } from './state.js';

type Bundle = typeof import('../../src/browser/index.js');

const WHERE_KEY = 'styleloom.where.v1';
/** Live previews at most this often (each is a PNG of the current image). */
const PREVIEW_MS = 400;

let bundle: Promise<Bundle> | null = null;

/** The browser bundle, loaded on first use from beside the page. */
function loadBundle(): Promise<Bundle> {
  bundle ??= import(/* @vite-ignore */ new URL('browser/styleloom.js', document.baseURI).href) as Promise<Bundle>;
  bundle.catch(() => (bundle = null));
  return bundle;
}

export function saveWhere() {
  try {
    localStorage.setItem(WHERE_KEY, JSON.stringify({ where: state.where, weights: el.weightsUrl.value }));
  } catch {
    /* private mode */
  }
}

/**
 * Where to run at load: ?device / ?server in the address, else the last choice, else on this device when
 * the server does not answer (a static host). The weights URL: ?weights=, else the last one.
 */
export function initialWhere(serverUp: boolean): Where {
  const q = new URLSearchParams(location.search);
  let saved: { where?: Where; weights?: string } = {};
  try {
    saved = JSON.parse(localStorage.getItem(WHERE_KEY) ?? '{}') ?? {};
  } catch {
    /* ignore */
  }
  // the page's own server offers its weights (GET /api/weights, with ranges)
  el.weightsUrl.value = q.get('weights') ?? saved.weights ?? (serverUp ? 'api/weights' : '');
  if (q.has('device')) return 'device';
  if (q.has('server')) return 'server';
  if (!serverUp) return 'device';
  return saved.where === 'device' ? 'device' : 'server';
}

async function pngUrl(b: Bundle, img: { data: Uint8Array; width: number; height: number }): Promise<string> {
  const c = new OffscreenCanvas(img.width, img.height);
  c.getContext('2d')!.putImageData(b.toImageData(img), 0, 0);
  return URL.createObjectURL(await c.convertToBlob({ type: 'image/png' }));
}

let seq = 0;

/** Runs one Gatys job in this tab and shows it on the stage; resolves when it ends (done, failed or cancelled). */
export async function runOnDevice(content: Picked, style: Picked, p: { size: number; iters: number; styleWeight: number; originalColors: boolean }) {
  const weights = el.weightsUrl.value.trim();
  const ac = new AbortController();
  const now = new Date().toISOString();
  const job: JobView = {
    id: `device-${++seq}`,
    status: 'running',
    mode: 'gatys',
    params: { size: p.size, iters: p.iters, styleWeight: p.styleWeight, originalColors: p.originalColors } as unknown as JobView['params'],
    inputs: { content: content.name, styles: [style.name] },
    progress: { iter: 0, iters: p.iters },
    loss: null,
    createdAt: now,
    startedAt: now,
    eventsUrl: '',
  };
  const view: View = { id: job.id, job, losses: [], previewIter: -1, imageSeq: 0, local: ac };
  state.view?.es?.close();
  state.view = view;
  history.replaceState(null, '', location.pathname + location.search);
  el.stageImg.hidden = true;
  el.stageBadge.hidden = true;
  el.stageEmpty.hidden = false;
  renderJob();
  drawChart();
  const urls: string[] = [];
  const show = async (b: Bundle, img: { data: Uint8Array; width: number; height: number }, kind: 'preview' | 'result', iter: number) => {
    const url = await pngUrl(b, img);
    urls.push(url);
    if (state.view === view) showImage(url, kind, iter);
    return url;
  };
  const finish = (status: JobView['status'], error?: string) => {
    job.status = status;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    if (state.view === view) {
      renderJob();
      scheduleChart();
    }
  };
  try {
    const b = await loadBundle();
    let lastPreview = 0;
    let previewing = false;
    const r = await b.stylize(
      { content: content.blob, styles: [style.blob], weights, size: p.size, iters: p.iters, styleWeight: p.styleWeight, originalColors: p.originalColors, optimizer: 'lbfgs' },
      {
        signal: ac.signal,
        onProgress: (e) => {
          job.progress = { iter: e.iter, iters: e.iters };
          job.loss = e.loss;
          view.losses.push(e.loss.total);
          if (!view.best || e.loss.total < view.best.total) view.best = e.loss;
          if (state.view === view) {
            renderJob();
            scheduleChart();
          }
          const t = performance.now();
          if (!previewing && t - lastPreview >= PREVIEW_MS) {
            previewing = true;
            lastPreview = t;
            void show(b, e.current(), 'preview', e.iter).finally(() => (previewing = false));
          }
        },
      },
    );
    job.width = r.width;
    job.height = r.height;
    job.loss = r.loss;
    view.best = r.loss;
    job.resultUrl = await show(b, r.image, 'result', p.iters);
    finish('done');
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'E_ABORTED') finish('cancelled');
    else {
      const msg = err.message ?? String(e);
      finish('failed', msg);
      toast(`On this device: ${msg}`, 'error');
    }
  } finally {
    // previews are no longer needed once the run ended (the result stays for the download link)
    for (const u of urls) if (u !== job.resultUrl) setTimeout(() => URL.revokeObjectURL(u), 5000);
  }
}

/** Cancel of a run on this device: stops after the current iteration. */
export function cancelOnDevice(v: View) {
  v.local?.abort();
}
