// Writes docs/astronaut-suit-mask.png: a soft mask of the orange spacesuit in
// ../shared/assets/images/astronaut.png (the garment example of the README's "Styles by region"),
// found by colour (orange: red high, blue low), cleaned by a blur and a threshold, then feathered.
// Usage: node tools/make-garment-mask.mjs [out.png]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.resolve(root, '..', 'shared', 'assets', 'images', 'astronaut.png');
const out = process.argv[2] ?? path.join(root, 'docs', 'astronaut-suit-mask.png');

const { data, info } = await sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const { width: w, height: h } = info;
const raw = Buffer.alloc(w * h);
for (let k = 0; k < w * h; k++) {
  const [r, g, b] = [data[3 * k], data[3 * k + 1], data[3 * k + 2]];
  // the suit's orange: red, green well below it (skin and hair have g > 0.6 r), blue lowest (the flag's red has g ≈ b)
  raw[k] = r > 90 && r - b > 60 && g - b > 10 && g < 0.6 * r ? 255 : 0;
}
const grey = { raw: { width: w, height: h, channels: 1 } };
// close small holes (the patches, straps) and drop specks: blur, threshold, blur again for a soft edge
const closed = await sharp(raw, grey).blur(10).toColourspace('b-w').raw().toBuffer();
const solid = Buffer.from(closed.map((v) => (v > 70 ? 255 : 0)));
await sharp(solid, grey).blur(2).toColourspace('b-w').png().toFile(out);
console.log(`wrote ${out} (${w}x${h})`);
