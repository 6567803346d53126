// How each edge names an option (CLI flag, API field), which rows a job has, and a row as it applies to
// one job (its default, help line and bounds there). Browser-safe.
import { JOBS, type Job, type Row, type Value } from './types.js';
import { OPTION_ROWS, rowOf } from './table.js';

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The CLI flag of a row without dashes (`style-weight`). */
export const flagOf = (r: Row): string => r.flag ?? kebab(r.key);
/** The HTTP API field of a row (`style_weight`). */
export const fieldOf = (r: Row): string => r.field ?? snake(r.key);

const known = (key: string): Row | undefined => OPTION_ROWS.find((r) => r.key === key);

/** How the CLI names option `key` in messages: `--style-weight` (keys the table lacks stay as they are). */
export function cliName(key: string): string {
  const r = known(key);
  return r ? `--${r.negate ? 'no-' : ''}${flagOf(r)}` : key;
}

/** How the HTTP API names option `key`: `style_weight`. */
export function apiName(key: string): string {
  const r = known(key);
  return r ? fieldOf(r) : key;
}

/** A row as it applies to one job. */
export interface JobRow {
  row: Row;
  key: string;
  default: Value | undefined;
  doc: string;
  required: boolean;
  many: boolean;
  min: number | undefined;
  max: number | undefined;
}

export function forJob(r: Row, job: Job): JobRow {
  const v = r.jobsVary?.[job] ?? {};
  return {
    row: r,
    key: r.key,
    default: v.noDefault ? undefined : 'default' in v ? v.default : r.default,
    doc: v.doc ?? r.doc,
    required: Boolean(v.required),
    many: Boolean(v.many ?? r.many),
    min: v.min ?? r.min,
    max: v.max ?? r.max,
  };
}

/** The rows of a job, in table order, as they apply to it. */
export function rowsFor(job: Job): JobRow[] {
  return OPTION_ROWS.filter((r) => (r.jobs as readonly Job[]).includes(job)).map((r) => forJob(r, job));
}

/** The job's options as HTTP API fields (text fields: uploads, host settings and CLI output flags left out). */
export function apiRowsFor(job: Job): JobRow[] {
  return rowsFor(job).filter((j) => isApiField(j.row));
}

/** The jobs the HTTP API runs (mode=gatys is the image job, mode=audio the audio one, mode=video the video one). */
export const API_JOBS: readonly Job[] = ['image', 'fast', 'audio', 'video'];

export const isApiField = (r: Row): boolean =>
  (r as { api?: boolean }).api !== false && !r.cliOnly && r.kind !== 'image' && r.kind !== 'images' && r.jobs.some((j) => API_JOBS.includes(j));

/** The default of `key` for `job` (from the table). */
export function defaultOf(key: string, job: Job = 'image'): Value | undefined {
  return forJob(rowOf(key), job).default;
}

export { JOBS };
