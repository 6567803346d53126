// Checks of a run's images against the run, made before any work: each working image is large enough
// for the deepest VGG layer used (every 2x2 pooling halves it), and an init image has the content's shape.
import { optionError } from '../errors.js';
import { longSideDims } from '../image/dims.js';
import { poolsBefore } from '../loss/tiled.js';

/** The deepest of `layers` and the smallest side (px) an image needs to reach it: 2^(poolings before it). */
export function minSideFor(layers: readonly string[]): { layer: string; px: number } {
  let layer = layers[0];
  for (const l of layers) if (poolsBefore(l) > poolsBefore(layer)) layer = l;
  return { layer, px: 2 ** poolsBefore(layer) };
}

export interface SizedImage {
  /** How the message names it: "the content image photo.png". */
  what: string;
  width: number;
  height: number;
  /** The long side it is resized to. */
  longSide: number;
}

/** Throws E_INPUT when an image, resized to its long side, is too thin for the deepest of `layers`. */
export function checkMinSide(images: readonly SizedImage[], layers: readonly string[]): void {
  const need = minSideFor(layers);
  for (const im of images) {
    const d = longSideDims(im.width, im.height, im.longSide);
    if (Math.min(d.width, d.height) < need.px) {
      throw optionError('E_INPUT', `${im.what} (${im.width}x${im.height}) becomes ${d.width}x${d.height} px (long side ${im.longSide}), but layer ${need.layer} needs at least ${need.px} px on each side; use a larger {size}, shallower layers, or a less elongated image`);
    }
  }
}

export interface RunImages {
  /** Long side of each scale. */
  sizes: readonly number[];
  styleScale: number;
  content: Omit<SizedImage, 'longSide'>;
  styles: readonly Omit<SizedImage, 'longSide'>[];
}

/** checkMinSide for every image of a run at every scale (style images at `styleScale` of each, 16 px at least). */
export function checkRunImages(run: RunImages, layers: readonly string[]): void {
  checkMinSide(
    run.sizes.flatMap((size) => [{ ...run.content, longSide: size }, ...run.styles.map((im) => ({ ...im, longSide: styleSideAt(size, run.styleScale) }))]),
    layers,
  );
}

/** Long side of the style images at output long side `size`. */
export const styleSideAt = (size: number, styleScale: number): number => Math.max(16, Math.round(size * styleScale));

/** Throws E_USAGE when the init image's (or option `key`'s image's) aspect ratio differs from the content's by more than 1% (it would be stretched). */
export function checkInitShape(init: { width: number; height: number }, content: { width: number; height: number }, name: string, key = 'init'): void {
  const a = init.width / init.height;
  const c = content.width / content.height;
  if (Math.abs(a - c) / c > 0.01) {
    const subject = key === 'init' ? `the {init} image ${name}` : `{${key}} ${name}`;
    throw optionError('E_USAGE', `${subject} is ${init.width}x${init.height} (aspect ${a.toFixed(3)}) but the content is ${content.width}x${content.height} (aspect ${c.toFixed(3)}); it would be stretched — crop it to the content's shape first`);
  }
}
