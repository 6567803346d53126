// The picture users look at before they listen: content, style and result log-magnitude spectrograms side
// by side (time left to right, low frequencies at the bottom, one colour scale for all), each labelled.
import sharp from 'sharp';
import type { RgbImage } from '../image/types.js';
import type { Spectrogram } from './types.js';

/** A dark-to-bright colour ramp (black, purple, orange, pale yellow), sampled at t in [0, 1]. */
const RAMP: [number, number, number][] = [
  [0, 0, 4],
  [59, 15, 112],
  [140, 41, 129],
  [222, 73, 104],
  [254, 159, 109],
  [252, 253, 191],
];

function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [RAMP[i], RAMP[i + 1]];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

export interface Panel {
  label: string;
  spectrogram: Spectrogram;
}

/** The labelled panels of a run's content (when it had one), style and result spectrograms, named as given. */
export function resultPanels(s: { content?: Spectrogram; style: Spectrogram; result: Spectrogram }, names: { content?: string; style: string; result: string }): Panel[] {
  return [
    ...(s.content ? [{ label: `content: ${names.content ?? 'content'}`, spectrogram: s.content }] : []),
    { label: `style: ${names.style}`, spectrogram: s.style },
    { label: `result: ${names.result}`, spectrogram: s.result },
  ];
}

/** The panels side by side, `height` px tall, each at least `minWidth` px wide, with `gap` px between. */
export async function renderSpectrograms(panels: Panel[], opts: { height?: number; pxPerFrame?: number; gap?: number } = {}): Promise<RgbImage> {
  const height = opts.height ?? 256;
  const gap = opts.gap ?? 8;
  const band = 22;
  let max = 1e-6;
  for (const p of panels) for (const v of p.spectrogram.data) if (v > max) max = v;
  const rendered = await Promise.all(
    panels.map(async ({ spectrogram: s, label }) => {
      const raw = Buffer.alloc(s.bins * s.frames * 3);
      for (let k = 0; k < s.bins; k++)
        for (let t = 0; t < s.frames; t++) {
          const c = colour(Math.max(0, s.data[k * s.frames + t]) / max);
          raw.set(c, ((s.bins - 1 - k) * s.frames + t) * 3);
        }
      // wide enough for its label (13 px sans: about 7.5 px a character)
      const width = Math.max(96, Math.ceil(label.length * 7.5) + 12, Math.round(s.frames * (opts.pxPerFrame ?? 2)));
      const img = await sharp(raw, { raw: { width: s.frames, height: s.bins, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
      return { img, width };
    }),
  );
  const total = rendered.reduce((a, r) => a + r.width, 0) + gap * (panels.length - 1);
  const sheetH = height + band;
  const composites: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  let x = 0;
  rendered.forEach((r, k) => {
    composites.push({ input: r.img, raw: { width: r.width, height, channels: 3 }, left: x, top: band });
    texts.push(`<text x="${x + 4}" y="${band / 2}" dominant-baseline="central" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13" fill="white">${escapeXml(panels[k].label)}</text>`);
    x += r.width + gap;
  });
  composites.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${total}" height="${sheetH}">${texts.join('')}</svg>`), left: 0, top: 0 });
  const data = await sharp({ create: { width: total, height: sheetH, channels: 3, background: { r: 24, g: 24, b: 24 } } })
    .composite(composites)
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: total, height: sheetH };
}
