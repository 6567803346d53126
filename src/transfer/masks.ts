// The masks of a run (spatial control, Gatys et al. 2017): read and checked once before any work (an
// image of the right aspect ratio, something to stylise, one mask per style, no overlaps), then, per
// scale, the regions that guide the style loss, the targets of each region, the coverage that restricts
// the optimisation (pixels no region covers keep the content) and the feathered mask of blend mode.
import { optionError } from '../errors.js';
import { checkMaskAspect as checkAspect, compositePlanar, decodeHeldMask, featherMask, resizeMask } from '../image/mask.js';
import type { RgbImage } from '../image/types.js';
import type { MaskPlane, StyleRegions } from '../loss/regions.js';
import type { RunInputs } from './inputs.js';
import type { ResolvedOptions } from './options.js';
import type { TargetGuide } from './targets.js';
import type { LossEvaluator } from './evaluator.js';

/** The masks of a run at their own resolution (content-side masks resized to the content's). */
export interface RunMasks {
  mode: 'guided' | 'blend';
  /** Content-side regions (one `mask`, or one per style), at the content image's size. */
  regions: MaskPlane[];
  /** Per region, its weight in the style loss; per region, the styles blended into its target. */
  weights: number[];
  groups: number[][];
  /** Per style image, its style region at its own size (null: all of it); null without `styleRegions`. */
  styleRegions: (MaskPlane | null)[] | null;
}

/** What one scale needs of the masks. */
export interface ScaleMasks {
  /** Guided style loss (guided mode), or undefined (plain Grams). */
  regions?: StyleRegions;
  guide: TargetGuide;
  /** Guided mode: where pixels may change (min(1, Σ regions)); null when every pixel may. */
  coverage: MaskPlane | null;
  /** Blend mode: the feathered mask the stylised image is composited with. */
  blend: MaskPlane | null;
  /**
   * Style masks: the blend weights the targets are computed with (all 1: each region's target is its one
   * style, and `styleBlendWeights` weigh the regions' terms instead).
   */
  targetBlend?: number[];
}

const nameOf = (src: unknown, fallback: string) => (typeof src === 'string' ? src : fallback);

const maxOf = (m: MaskPlane) => m.data.reduce((a, v) => Math.max(a, v), 0);

/**
 * Reads and checks the masks of `o` (held in `inputs`) against the content and style images; null when
 * the run has none. Every problem is one line naming the option, before any work.
 */
export async function loadRunMasks(o: ResolvedOptions, inputs: RunInputs, content: RgbImage, styles: RgbImage[]): Promise<RunMasks | null> {
  const n = o.styles.length;
  if (o.mask !== undefined && o.styleMasks) {
    throw optionError('E_USAGE', 'give either {mask} (one region for all the styles) or {styleMasks} (one region per style), not both');
  }
  if (o.styleMasks && o.styleMasks.length !== n) {
    throw optionError('E_USAGE', `{styleMasks} has ${o.styleMasks.length} file(s) for ${n} {styles}; give one mask per style, in the same order`);
  }
  if (o.styleRegions && o.styleRegions.length !== n) {
    throw optionError('E_USAGE', `{styleRegions} has ${o.styleRegions.length} file(s) for ${n} {styles}; give one region mask per style, in the same order`);
  }
  if (o.maskMode === 'blend' && o.styleMasks) {
    throw optionError('E_USAGE', '{maskMode} blend composites one {mask}; with {styleMasks} (several styles by region) use {maskMode} guided');
  }
  if (o.mask === undefined && !o.styleMasks && !o.styleRegions) return null;
  const toContent = async (m: MaskPlane) => resizeMask(m, content.width, content.height);
  let regions: MaskPlane[] = [];
  let weights: number[] = [];
  let groups: number[][] = [];
  if (o.mask !== undefined) {
    const what = `the {mask} image ${nameOf(o.mask, '(pixels)')}`;
    const m = await decodeHeldMask(inputs.mask!, nameOf(o.mask, 'mask'));
    checkAspect(m, content, what, 'the content');
    if (maxOf(m) < 0.5 / 255) throw optionError('E_INPUT', `${what} is entirely black: nothing to stylise (white marks where to stylise, black what to keep)`);
    regions = [await toContent(m)];
    weights = [1];
    groups = [styles.map((_, k) => k)];
  } else if (o.styleMasks) {
    const blend = o.styleBlendWeights;
    const mean = blend.reduce((a, b) => a + b, 0) / blend.length;
    for (let k = 0; k < n; k++) {
      const what = `{styleMasks} ${k + 1} (${nameOf(o.styleMasks[k], 'pixels')})`;
      const m = await decodeHeldMask(inputs.styleMasks[k], nameOf(o.styleMasks[k], `style mask ${k + 1}`));
      checkAspect(m, content, what, 'the content');
      const r = await toContent(m);
      if (!r.data.some((v) => v >= 0.5)) {
        throw optionError('E_INPUT', `${what} leaves no pixel to style ${k + 1} (${nameOf(o.styles[k], 'pixels')}): it is nowhere at least half white; paint its region white`);
      }
      regions.push(r);
    }
    checkOverlaps(regions, o.styleMasks);
    weights = blend.map((b) => b / mean);
    groups = regions.map((_, k) => [k]);
  }
  let styleRegions: (MaskPlane | null)[] | null = null;
  if (o.styleRegions) {
    styleRegions = [];
    for (let k = 0; k < n; k++) {
      const what = `{styleRegions} ${k + 1} (${nameOf(o.styleRegions[k], 'pixels')})`;
      const m = await decodeHeldMask(inputs.styleRegions[k], nameOf(o.styleRegions[k], `style region ${k + 1}`));
      checkAspect(m, styles[k], what, `style image ${k + 1}`);
      if (maxOf(m) < 0.5 / 255) throw optionError('E_INPUT', `${what} is entirely black: it takes nothing of style image ${k + 1}; paint the part to use white`);
      styleRegions.push(m);
    }
  }
  return { mode: o.mask !== undefined ? o.maskMode : 'guided', regions, weights, groups, styleRegions };
}

/** Throws E_INPUT when two style masks are both more than half white on some pixel (beyond a soft edge). */
function checkOverlaps(regions: MaskPlane[], srcs: readonly unknown[]): void {
  const hw = regions[0].data.length;
  for (let a = 0; a < regions.length; a++)
    for (let b = a + 1; b < regions.length; b++) {
      let both = 0;
      for (let k = 0; k < hw; k++) if (regions[a].data[k] > 0.55 && regions[b].data[k] > 0.55) both++;
      if (both > 0) {
        throw optionError(
          'E_INPUT',
          `{styleMasks} ${a + 1} (${nameOf(srcs[a], 'pixels')}) and ${b + 1} (${nameOf(srcs[b], 'pixels')}) overlap on ${both} pixel(s) (${((100 * both) / hw).toFixed(1)}% of the content), both more than half white there; give each pixel to one style, with grey only along the borders`,
        );
      }
    }
}

/** Blend mode's feather: a Gaussian of about 1/100 of the long side (1 px at least). */
export const featherSigma = (width: number, height: number): number => Math.max(1, Math.max(width, height) / 100);

/** The masks at one scale: the content at width x height, the style images at `styleSizes`. */
export async function masksAtScale(m: RunMasks, width: number, height: number, styleSizes: { width: number; height: number }[]): Promise<ScaleMasks> {
  const styleRegions = m.styleRegions
    ? await Promise.all(m.styleRegions.map((r, k) => (r ? resizeMask(r, styleSizes[k].width, styleSizes[k].height) : null)))
    : undefined;
  const regions = await Promise.all(m.regions.map((r) => resizeMask(r, width, height)));
  if (m.mode === 'blend') {
    return { guide: { styleRegions }, coverage: null, blend: await featherMask(regions[0], featherSigma(width, height)) };
  }
  if (regions.length === 0) return { guide: { styleRegions }, coverage: null, blend: null };
  const coverage = new Float32Array(width * height);
  for (const r of regions) for (let k = 0; k < coverage.length; k++) coverage[k] = Math.min(1, coverage[k] + r.data[k]);
  return {
    regions: { masks: regions, weights: m.weights },
    guide: { styleRegions, groups: m.groups },
    coverage: { data: coverage, width, height },
    blend: null,
    targetBlend: m.groups.every((g) => g.length === 1) ? m.groups.map(() => 1) : undefined,
  };
}

/**
 * The evaluator with its gradient weighted by the coverage, per pixel and channel: pixels no region
 * covers never move (they keep the content), soft edges move in proportion.
 */
export function coveredEvaluator(ev: LossEvaluator, coverage: MaskPlane): LossEvaluator {
  const hw = coverage.width * coverage.height;
  return {
    async evaluate(x) {
      const r = await ev.evaluate(x);
      for (let c = 0; c < 3; c++) for (let k = 0; k < hw; k++) r.grad[c * hw + k] *= coverage.data[k];
      return r;
    },
    release: () => ev.release(),
  };
}

/** An initial image with the uncovered pixels put back to the content (Caffe space). */
export function coverInit(x: Float32Array, content: Float32Array, coverage: MaskPlane): Float32Array {
  return compositePlanar(x, content, coverage);
}
