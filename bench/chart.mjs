// The ms/iter-against-size chart: an SVG drawn by hand, rendered to a small palette PNG with sharp.
// Usage as a script: node bench/chart.mjs  (redraws bench/results/ms-per-iter.png from latest.json)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * series: [{ name, color, points: [{ size, ms }] }] (ms null = not measured).
 * x: size on a log2 axis; y: ms/iter on a log10 axis.
 */
export function chartSvg({ title, subtitle, series }) {
  const W = 720;
  const H = 440;
  const m = { l: 78, r: 24, t: 58, b: 58 };
  const pts = series.flatMap((s) => s.points.filter((p) => p.ms > 0));
  const sizes = [...new Set(series.flatMap((s) => s.points.map((p) => p.size)))].sort((a, b) => a - b);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...pts.map((p) => p.ms)) / 1.3)));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...pts.map((p) => p.ms)) * 1.3)));
  const x0 = Math.log2(sizes[0]) - 0.3;
  const x1 = Math.log2(sizes[sizes.length - 1]) + 0.3;
  const X = (s) => m.l + ((Math.log2(s) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (v) => H - m.b - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - m.t - m.b);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" font-size="17" text-anchor="middle" fill="#111">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${W / 2}" y="43" font-size="12" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`);
  // y grid: decades and 2x, 5x
  for (let d = lo; d <= hi; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi) break;
      const y = Y(v);
      out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="${k === 1 ? '#bbb' : '#e4e4e4'}" stroke-width="1"/>`);
      out.push(`<text x="${m.l - 8}" y="${y + 4}" font-size="12" text-anchor="end" fill="#333">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
    }
  }
  for (const s of sizes) {
    const x = X(s);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(`<text x="${x}" y="${H - m.b + 18}" font-size="12" text-anchor="middle" fill="#333">${s} px</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 16}" font-size="13" text-anchor="middle" fill="#111">long side of the image (log scale)</text>`);
  out.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#111">ms per iteration (log scale)</text>`);
  series.forEach((s, i) => {
    const p = s.points.filter((q) => q.ms > 0);
    if (p.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5" points="${p.map((q) => `${X(q.size)},${Y(q.ms)}`).join(' ')}"/>`);
    for (const q of p) {
      out.push(`<circle cx="${X(q.size)}" cy="${Y(q.ms)}" r="4.5" fill="${s.color}"/>`);
      const label = q.ms >= 1000 ? `${(q.ms / 1000).toFixed(2)} s` : `${q.ms.toFixed(0)} ms`;
      // the highest series at this size is labelled above-left of its point, the others below-right
      const top = series.every((o) => !(o.points.find((r) => r.size === q.size)?.ms > q.ms));
      const [lx, ly, anchor] = top ? [X(q.size) - 9, Y(q.ms) - 9, 'end'] : [X(q.size) + 9, Y(q.ms) + 18, 'start'];
      out.push(`<text x="${lx}" y="${ly}" font-size="12" text-anchor="${anchor}" fill="${s.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${label}</text>`);
    }
    const ly = m.t + 18 + i * 20;
    out.push(`<line x1="${m.l + 14}" x2="${m.l + 40}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`);
    out.push(`<text x="${m.l + 48}" y="${ly}" font-size="13" fill="#111">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Renders the chart to a palette PNG (a few KB). */
export async function writeChartPng(file, spec) {
  const svg = chartSvg(spec);
  await sharp(Buffer.from(svg)).png({ palette: true, colours: 32, compressionLevel: 9 }).toFile(file);
  return svg;
}

/** The chart of a bench result (bench/results/latest.json's content). */
export function chartSpec(result) {
  const m = result.machine ?? {};
  const series = [{ name: `styleloom (onnxruntime ${m.onnxruntime_node ?? '?'})`, color: '#d62728', points: result.sizes.map((r) => ({ size: r.size, ms: r.ours.ms_per_iter })) }];
  if (result.sizes.some((r) => r.peer?.ms_per_iter)) {
    series.push({ name: `PyTorch peer (torch ${m.torch ?? '?'}${m.peer_mkldnn ? ', oneDNN' : ''})`, color: '#1f77b4', points: result.sizes.map((r) => ({ size: r.size, ms: r.peer?.ms_per_iter })) });
  }
  return {
    title: `ms per iteration: Adam, chelsea + starry night, ${result.settings?.threads ?? '?'} threads`,
    subtitle: `${m.cpu ?? 'CPU'}, ${m.cpus ?? '?'} vCPUs; ${String(result.date).slice(0, 10)}; lower is better`,
    series,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8'));
  await writeChartPng(path.join(dir, 'ms-per-iter.png'), chartSpec(result));
  console.log(`wrote ${path.join(dir, 'ms-per-iter.png')}`);
}
