// The sliders' ranges (style weight, size, iterations, a video's later frames' iterations): the one place that reads or writes their
// min/max/step/default, taken from the option table's page controls and defaults. index.html has the
// bare inputs; applyRanges() gives them these at start.
import type { ModelsView } from '../../src/server/api-types.js';
import { rowOf } from '../../src/options/table.js';
import { el } from './elements.js';

export type Slider = 'styleWeight' | 'size' | 'iters' | 'frameIters';

export interface SliderRange {
  min: number;
  max: number;
  step: number;
  /** The default (the input's value attribute). */
  value: number;
}

export const SLIDERS: readonly Slider[] = ['styleWeight', 'size', 'iters', 'frameIters'];

/** A slider of the option `key`: its row's page control and default (a log slider moves the exponent). */
function rangeOf(key: string): SliderRange {
  const r = rowOf(key);
  if (!r.page || typeof r.default !== 'number') throw new Error(`option ${key} has no page control`);
  return { min: r.page.min, max: r.page.max, step: r.page.step, value: r.page.log ? Math.log10(r.default) : r.default };
}

/** The style weight's slider is its exponent: the weight is 10^value. */
export const RANGES: Readonly<Record<Slider, Readonly<SliderRange>>> = {
  styleWeight: rangeOf('styleWeight'),
  size: rangeOf('size'),
  iters: rangeOf('iters'),
  frameIters: rangeOf('frameIters'),
};

/** `?dev`: lower minimums for quick tests. */
export const DEV_RANGES: Readonly<Partial<Record<Slider, Readonly<Partial<SliderRange>>>>> = {
  size: { min: 32, step: 16 },
  iters: { min: 2, step: 1 },
  frameIters: { min: 1, step: 1 },
};

export const sliderInputs = (): HTMLInputElement[] => SLIDERS.map((s) => el[s]);

function setRange(input: HTMLInputElement, r: Readonly<Partial<SliderRange>>) {
  if (r.min !== undefined) input.min = String(r.min);
  if (r.max !== undefined) input.max = String(r.max);
  if (r.step !== undefined) input.step = String(r.step);
  if (r.value !== undefined) input.defaultValue = String(r.value);
}

/** Gives the sliders their ranges and defaults (then, with `dev`, the lower minimums). */
export function applyRanges(dev: boolean) {
  for (const s of SLIDERS) setRange(el[s], RANGES[s]);
  if (dev) for (const s of SLIDERS) if (DEV_RANGES[s]) setRange(el[s], DEV_RANGES[s]);
}

/** Caps size and iterations at what the server takes (GET /api/models). */
export function applyServerLimits(limits: ModelsView['limits']) {
  el.size.max = String(Math.min(RANGES.size.max, limits.maxSize));
  el.iters.max = String(Math.min(RANGES.iters.max, limits.maxIters));
}

/** The style weight the slider stands for (2 significant digits). */
export const styleWeight = () => Number((10 ** Number(el.styleWeight.value)).toPrecision(2));

/** Colours a slider's track up to its thumb (the CSS reads --fill). */
export function paintSlider(input: HTMLInputElement) {
  const min = Number(input.min);
  const max = Number(input.max);
  const f = max > min ? (Number(input.value) - min) / (max - min) : 0;
  input.style.setProperty('--fill', `${(f * 100).toFixed(2)}%`);
}
