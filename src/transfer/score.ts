// scoreImage(): the Gatys loss terms of any image (content, style per layer and total, total variation)
// against a content and style image(s), at stylize's working size and with its layer and weight options.
import { optionError, StyleloomError } from '../errors.js';
import { toCaffe } from '../image/caffe.js';
import { matchColors } from '../image/color.js';
import { resolveLayers } from '../model/vgg19.js';
import { loadVggWeights } from '../model/vgg19-file.js';
import { resolveWeightsPath } from '../model/weights.js';
import { MAX_SIZE, type OptionRows } from '../options/table.js';
import type { LibraryOptions, ResolvedLibraryOptions } from '../options/types.js';
import { resolveTableOptions } from '../options/validate.js';
import { nodeRuntime } from '../runtime/session.js';
import { checkInitShape, checkRunImages, styleSideAt } from './image-checks.js';
import { loadAtLongSide, loadAtSize, loadSource } from './images.js';
import { checkStyleLayerWeights, resolveBlendWeights } from './options.js';
import { computeTargets } from './targets.js';
import type { ImageSource, LossTerms } from './types.js';
import { createUntiledEvaluator, type LayerTerms } from './whole-image.js';

export interface ScoreOptions extends Omit<LibraryOptions<OptionRows, 'score'>, 'content' | 'styles' | 'image'> {
  content: ImageSource;
  styles: ImageSource[];
  /** The image scored (a file or decoded pixels), resized to the content's working size. */
  image: ImageSource;
}

export interface ScoreResult {
  /** The weighted terms, as stylize reports them (a term with weight 0 is 0). */
  loss: LossTerms;
  /** Each layer's weighted share of the content and style terms (they sum to loss.content and loss.style). */
  layers: LayerTerms;
  /** The working size the image was scored at (the content at {size}). */
  width: number;
  height: number;
  contentLayers: string[];
  styleLayers: string[];
}

type Resolved = Omit<ResolvedLibraryOptions<OptionRows, 'score'>, 'content' | 'styles' | 'image'>;

const bad = (template: string) => optionError('E_USAGE', template);

function resolveScoreOptions(o: ScoreOptions): Resolved & { styleBlendWeights: number[] } {
  if (o.content === undefined || o.content === null || o.content === '') throw bad('a content image is required ({content} FILE)');
  if (!Array.isArray(o.styles) || o.styles.length === 0) throw bad('at least one style image is required ({styles} FILE)');
  if (o.image === undefined || o.image === null || o.image === '') throw bad('an image to score is required ({image} FILE)');
  const r = resolveTableOptions('score', { ...o }) as unknown as Resolved;
  if (r.contentWeight + r.styleWeight + r.tvWeight === 0) throw bad('{contentWeight}, {styleWeight} and {tvWeight} are all 0: nothing to score');
  if (r.styleScale * r.size > MAX_SIZE) throw bad(`{styleScale} ${r.styleScale} makes style images ${Math.round(r.styleScale * r.size)} px, over ${MAX_SIZE}; lower it`);
  if (r.styleLayerWeights && !(r.styleLayerWeights.reduce((a, b) => a + b, 0) > 0)) throw bad('{styleLayerWeights} must not all be 0');
  return { ...r, styleBlendWeights: resolveBlendWeights(r.styleBlendWeights, o.styles.length) };
}

const named = (src: ImageSource, what: string) => (typeof src === 'string' ? `${what} ${src}` : what);

/**
 * The loss terms of `image` against `content` and `styles`, computed as stylize computes them at its first
 * iteration: content at long side `size`, styles at `size`·`styleScale`, the image resized (Lanczos) to the
 * content's size. Rejects with a StyleloomError (E_INPUT for unreadable images, E_USAGE for bad options).
 */
export async function scoreImage(options: ScoreOptions, hooks: { signal?: AbortSignal } = {}): Promise<ScoreResult> {
  const o = resolveScoreOptions(options);
  const weights = await loadVggWeights(resolveWeightsPath({ flag: o.weights }));
  const layers = resolveLayers(weights, o.contentLayers, o.styleLayers);
  checkStyleLayerWeights(o.styleLayerWeights, layers.style);
  const contentImage = await loadSource(options.content);
  const styleImages = await Promise.all(options.styles.map(loadSource));
  const scored = await loadSource(options.image);
  checkRunImages(
    {
      sizes: [o.size],
      styleScale: o.styleScale,
      content: { what: named(options.content, 'the content image'), width: contentImage.width, height: contentImage.height },
      styles: styleImages.map((im, k) => ({ what: named(options.styles[k], `style image ${k + 1}`), width: im.width, height: im.height })),
    },
    [...layers.content, ...layers.style],
  );
  checkInitShape(scored, contentImage, typeof options.image === 'string' ? options.image : '(pixels)', 'image');
  if (hooks.signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
  const content = await loadAtLongSide(contentImage, o.size);
  const loaded = await Promise.all(styleImages.map((s) => loadAtLongSide(s, styleSideAt(o.size, o.styleScale))));
  const styles = o.colorMatch ? loaded.map((s) => matchColors(s, content)) : loaded;
  const image = await loadAtSize(scored, content.width, content.height);
  const asTensor = (img: typeof content) => ({ data: toCaffe(img), width: img.width, height: img.height });
  const run = { threads: o.threads, device: o.device, runtime: nodeRuntime };
  const spec = { weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, pool: o.pool, styleLayerWeights: o.styleLayerWeights, layerTerms: true };
  const targets = await computeTargets(weights, asTensor(content), styles.map(asTensor), o.styleBlendWeights, o.contentWeight ? layers.content : [], o.styleWeight ? layers.style : [], o.pool, run);
  const evaluator = await createUntiledEvaluator(spec, content.width, content.height, targets, run);
  try {
    const { loss, layers: shares } = await evaluator.evaluate(toCaffe(image));
    return { loss, layers: shares ?? { content: {}, style: {} }, width: content.width, height: content.height, contentLayers: layers.content, styleLayers: layers.style };
  } finally {
    await evaluator.release();
  }
}
