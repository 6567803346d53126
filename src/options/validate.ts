// Checks one value against its row (kind, range, choices) and fills a job's defaults from the table.
// Every problem is an E_USAGE error whose template names the option as {key}. Browser-safe.
import { optionError } from '../errors.js';
import { rowsFor, type JobRow } from './names.js';
import type { Job, Value } from './types.js';

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : Array.isArray(v) ? `[${v.join(',')}]` : String(v));

function checkNumber(t: string, v: unknown, j: Pick<JobRow, 'min' | 'max'> & { int: boolean; exclusiveMin?: boolean }): number {
  const { min, max, int } = j;
  if (int) {
    if (typeof v !== 'number' || !Number.isInteger(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
      const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : '';
      throw optionError('E_USAGE', `${t} must be a whole number${range}, got ${shown(v)}`);
    }
    return v;
  }
  const low = min === undefined ? true : j.exclusiveMin ? (v as number) > min : (v as number) >= min;
  if (typeof v !== 'number' || !Number.isFinite(v) || !low || (max !== undefined && v > max)) {
    const range = max !== undefined && min !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` ${j.exclusiveMin ? '>' : '>='} ${min}` : '';
    throw optionError('E_USAGE', `${t} must be a finite number${range}, got ${shown(v)}`);
  }
  return v;
}

/** `v` checked against row `j` (undefined: not given, returned as is). */
export function checkValue(j: JobRow, v: unknown): Value | undefined {
  if (v === undefined) return undefined;
  const r = j.row;
  const t = `{${r.key}}`;
  if (j.many && r.kind !== 'images') {
    if (!Array.isArray(v)) throw optionError('E_USAGE', `${t} must be a list, got ${shown(v)}`);
    return v.map((x) => checkValue({ ...j, many: false }, x)) as string[];
  }
  switch (r.kind) {
    case 'int':
    case 'number':
      return checkNumber(t, v, { min: j.min, max: j.max, int: r.kind === 'int', exclusiveMin: r.exclusiveMin });
    case 'boolean':
      if (typeof v !== 'boolean') throw optionError('E_USAGE', `${t} must be true or false, got ${shown(v)}`);
      return v;
    case 'choice':
      if (typeof v === 'string' && r.choices!.includes(v)) return v;
      if (r.orImage && ((typeof v === 'string' && v !== '') || (typeof v === 'object' && v !== null))) return v as Value;
      throw optionError('E_USAGE', `${t} must be one of ${r.choices!.join(', ')}${r.orImage ? ' or an image file' : ''}, got ${shown(v)}`);
    case 'string':
    case 'path':
      if (typeof v !== 'string' || v === '') throw optionError('E_USAGE', `${t} must be a non-empty string, got ${shown(v)}`);
      return v;
    case 'layers':
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw optionError('E_USAGE', `${t} must be a list of layer names, got ${shown(v)}`);
      if (v.length === 0) throw optionError('E_USAGE', `${t} is empty; name at least one layer, e.g. conv3_2`);
      return v as string[];
    case 'numbers':
    case 'ints': {
      if (!Array.isArray(v)) throw optionError('E_USAGE', `${t} must be a list of numbers, got ${shown(v)}`);
      const entry = r.entry ?? 'entry';
      v.forEach((x, k) => checkNumber(`${t} ${entry} ${k + 1}`, x, { min: j.min, max: j.max, int: r.kind === 'ints', exclusiveMin: r.exclusiveMin }));
      return v as number[];
    }
    default:
      return v as Value; // images: checked when they are read
  }
}

/**
 * The library options of `job`: every table option of the job checked, defaults filled in; other
 * keys of `input` (content, styles, resume, ...) are passed through unchanged.
 */
export function resolveTableOptions(job: Job, input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  for (const j of rowsFor(job)) {
    if (j.row.cliOnly || j.row.kind === 'image' || j.row.kind === 'images') continue;
    const v = checkValue(j, input[j.key]);
    out[j.key] = v ?? j.default;
    if (out[j.key] === undefined) delete out[j.key];
  }
  return out;
}
