// The loss chart: the best total loss so far per iteration on a log axis (line-search trials above
// it drawn faintly), redrawn at most once per animation frame.
import { svg } from './dom.js';
import { el } from './elements.js';
import { sci, sup } from './format.js';
import { state } from './state.js';
import { optimiserIters } from './sound.js';

let chartQueued = false;
export function scheduleChart() {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawChart();
  });
}

export function drawChart() {
  const s = el.chartSvg;
  s.replaceChildren();
  const raw = (state.view?.losses ?? []).filter((x) => x > 0 && Number.isFinite(x));
  el.chartEmpty.hidden = raw.length >= 2;
  const mode = state.view?.job.mode;
  el.chartEmpty.textContent =
    mode === 'fast' ? 'Fast mode has no loss to plot: it paints in one pass.' : mode === 'video' ? 'A video job plots no loss: its frames appear on the stage as they finish.' : 'The total loss per iteration is drawn here.';
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
  const n = Math.max(state.view ? optimiserIters(state.view.job) : 0, raw.length);
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
