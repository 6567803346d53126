// docs/video-strip.png: consecutive frames of two runs of the same clip (independent frames above, temporal
// consistency below), each followed by a row of |frame − previous frame| ×4, so that flicker shows as light speckle.
// Usage: node tools/make-video-strip.mjs INDEPENDENT.mp4 TEMPORAL.mp4 [--first 20] [--count 4] [--width 192] [--out docs/video-strip.png]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { ffmpegPath } from '../dist/src/media/ffmpeg.js';

const { values: a, positionals: [indep, temporal] } = parseArgs({
  allowPositionals: true,
  options: { first: { type: 'string', default: '20' }, count: { type: 'string', default: '4' }, width: { type: 'string', default: '192' }, out: { type: 'string', default: 'docs/video-strip.png' } },
});
if (!indep || !temporal) throw new Error('usage: node tools/make-video-strip.mjs INDEPENDENT.mp4 TEMPORAL.mp4 [...]');
const first = Number(a.first);
const count = Number(a.count);
const W = Number(a.width);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-strip-'));

/** Frames first-1 .. first+count-1 of `file` (one before, for the first difference), raw RGB at width W. */
async function frames(file, tag) {
  execFileSync(ffmpegPath(), ['-v', 'error', '-i', file, '-vf', `select='between(n\\,${first - 1}\\,${first + count - 1})',scale=${W}:-2`, '-vsync', '0', path.join(tmp, `${tag}-%03d.png`)]);
  const files = fs.readdirSync(tmp).filter((f) => f.startsWith(`${tag}-`)).sort();
  return Promise.all(files.map((f) => sharp(path.join(tmp, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
}
const png = (data, info) => sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
const rows = [];
for (const [file, tag] of [[indep, 'independent'], [temporal, 'temporal']]) {
  const f = await frames(file, tag);
  if (f.length !== count + 1) throw new Error(`${file}: got ${f.length} frames from ${first - 1}`);
  rows.push(await Promise.all(f.slice(1).map((x) => png(x.data, x.info))));
  rows.push(await Promise.all(f.slice(1).map((x, k) => png(Buffer.from(x.data.map((v, i) => Math.min(255, 4 * Math.abs(v - f[k].data[i])))), x.info))));
}
const { info } = (await frames(indep, 'size'))[0];
const H = info.height;
const label = 150;
const gap = 4;
const labels = ['independent frames', '|change| × 4', 'temporal consistency', '|change| × 4'];
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${label}" height="${4 * (H + gap) - gap}">${labels.map((t, r) => `<text x="6" y="${r * (H + gap) + H / 2}" dominant-baseline="central" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13" fill="#222">${t}</text>`).join('')}</svg>`;
const comps = [{ input: Buffer.from(svg), left: 0, top: 0 }];
rows.forEach((row, r) => row.forEach((input, c) => comps.push({ input, left: label + c * (W + gap), top: r * (H + gap) })));
await sharp({ create: { width: label + count * (W + gap) - gap, height: 4 * (H + gap) - gap, channels: 3, background: '#ffffff' } }).composite(comps).png({ palette: true, colours: 256 }).toFile(a.out);
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write(`${a.out}: frames ${first + 1}..${first + count} of ${path.basename(indep)} and ${path.basename(temporal)}\n`);
