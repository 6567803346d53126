// Validates stylize() options once, at the edge: each option against its row of the option table
// (src/options/table.ts: kind, range, default), then the rules that tie several options together,
// hand-written here. Every problem is an E_USAGE error whose template names the options ({key}).
import { optionError } from '../errors.js';
import type { ResolvedLibraryOptions } from '../options/types.js';
import { MAX_SIZE, type OptionRows } from '../options/table.js';
import { resolveTableOptions } from '../options/validate.js';
import type { ImageSource, StylizeOptions } from './types.js';

export { MAX_ITERS, MAX_SIZE } from '../options/table.js';

export type ResolvedOptions = Omit<ResolvedLibraryOptions<OptionRows, 'image'>, 'content' | 'styles' | 'init' | 'styleBlendWeights'> & {
  content: ImageSource;
  styles: ImageSource[];
  init: 'content' | 'noise' | ImageSource;
  /** One weight per style (default all 1). */
  styleBlendWeights: number[];
};

const bad = (template: string) => optionError('E_USAGE', template);

export function resolveOptions(o: StylizeOptions): ResolvedOptions {
  if (o.content === undefined || o.content === null || o.content === '') throw bad('a content image is required ({content} FILE)');
  if (!Array.isArray(o.styles) || o.styles.length === 0) throw bad('at least one style image is required ({styles} FILE)');
  const { resume: _resume, ...rest } = o;
  const r = resolveTableOptions('image', rest) as ResolvedOptions;
  r.styleBlendWeights = resolveBlendWeights(r.styleBlendWeights, o.styles.length);
  if (r.ema >= 1) throw bad(`{ema} must be from 0 (off) to below 1, e.g. 0.99; got ${r.ema}`);
  if (r.styleScale * r.size > MAX_SIZE) throw bad(`{styleScale} ${r.styleScale} makes style images ${Math.round(r.styleScale * r.size)} px, over ${MAX_SIZE}; lower it`);
  if (r.styleLayerWeights && !(r.styleLayerWeights.reduce((a, b) => a + b, 0) > 0)) throw bad('{styleLayerWeights} must not all be 0');
  if (r.scaleIters && r.scaleIters.length !== r.scales) {
    throw bad(`{scaleIters} has ${r.scaleIters.length} entries but {scales} is ${r.scales}; give one count per scale`);
  }
  if (r.contentWeight + r.styleWeight + r.tvWeight === 0) throw bad('{contentWeight}, {styleWeight} and {tvWeight} are all 0: nothing to optimise');
  if (r.minSize !== undefined && r.scales > 1 && r.minSize > r.size) throw bad(`{minSize} ${r.minSize} is larger than {size} ${r.size}; lower it`);
  return r;
}

/** One blend weight per style (default all 1), not all 0: the rule that ties {styleBlendWeights} to the styles. */
export function resolveBlendWeights(given: readonly number[] | undefined, styles: number): number[] {
  const blend = given ? [...given] : Array.from({ length: styles }, () => 1);
  if (blend.length !== styles) throw bad(`{styleBlendWeights} has ${blend.length} values but there are ${styles} styles; give one weight per style`);
  if (!(blend.reduce((a, b) => a + b, 0) > 0)) throw bad('{styleBlendWeights} must not all be 0');
  return blend;
}

/** The rule that ties --style-layer-weights to the style layers (known once the weights are read). */
export function checkStyleLayerWeights(weights: readonly number[] | undefined, styleLayers: readonly string[]): void {
  if (weights && weights.length !== styleLayers.length) {
    throw bad(`{styleLayerWeights} has ${weights.length} entries for ${styleLayers.length} style layers (${styleLayers.join(',')}); give one per layer`);
  }
}
