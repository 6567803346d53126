// Writes docs/regions-astronaut.png for the README's "Styles by region": the photo, the mask, the
// guided result and the blend result side by side (cells of the results' size, 4 px gaps), as a
// 256-colour PNG. Usage: node tools/make-regions-figure.mjs <guided.png> <blend.png> [out.png]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [guided, blend, out = path.join(root, 'docs', 'regions-astronaut.png')] = process.argv.slice(2);
if (!guided || !blend) throw new Error('usage: node tools/make-regions-figure.mjs <guided.png> <blend.png> [out.png]');
const photo = path.resolve(root, '..', 'shared', 'assets', 'images', 'astronaut.png');
const mask = path.join(root, 'docs', 'astronaut-suit-mask.png');
const { width: w, height: h } = await sharp(guided).metadata();
const gap = 4;
const cells = await Promise.all([photo, mask, guided, blend].map((f) => sharp(f).resize(w, h, { fit: 'fill' }).removeAlpha().png().toBuffer()));
await sharp({ create: { width: 4 * w + 3 * gap, height: h, channels: 3, background: '#ffffff' } })
  .composite(cells.map((input, k) => ({ input, left: k * (w + gap), top: 0 })))
  .png({ palette: true, quality: 95, effort: 10, compressionLevel: 9 })
  .toFile(out);
console.log(`wrote ${out}`);
