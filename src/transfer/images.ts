// Loads the content, style and init images of a run at the working size (files or decoded pixels).
import { readImage, resizeLongSide, resizeTo } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import type { ImageSource } from './types.js';

export async function loadSource(src: ImageSource): Promise<RgbImage> {
  return typeof src === 'string' ? readImage(src) : src;
}

/** The image with its long side `size` (aspect kept, as the peer resizes). */
export async function loadAtLongSide(src: ImageSource, size: number): Promise<RgbImage> {
  return resizeLongSide(await loadSource(src), size);
}

/** The image resized to exactly width x height (e.g. an init image to the content's size). */
export async function loadAtSize(src: ImageSource, width: number, height: number): Promise<RgbImage> {
  const img = await loadSource(src);
  return img.width === width && img.height === height ? img : resizeTo(img, width, height);
}
