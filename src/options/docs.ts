// The README's flag table, generated from the option table (tools/write-options-table.mjs writes it;
// a test checks the README holds exactly this). Browser-safe.
import { renderTemplate } from '../errors.js';
import { API_JOBS, cliName, fieldOf, forJob, isApiField, flagOf } from './names.js';
import { OPTION_ROWS } from './table.js';
import { JOBS, type Job, type Row, type Value } from './types.js';

export const TABLE_BEGIN = '<!-- option table: generated from src/options/table.ts by `npm run docs:options`; do not edit by hand -->';
export const TABLE_END = '<!-- end of option table -->';

const JOB_NAMES: Record<Job, string> = { image: 'styleloom', fast: 'fast', grid: 'grid', audio: 'audio', video: 'video', score: 'score', train: 'train' };
const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function shownValue(v: Value): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function flagCell(r: Row): string {
  if (r.kind === 'boolean') return code(`--${r.negate ? 'no-' : ''}${flagOf(r)}`);
  const value = r.kind === 'choice' ? `${r.choices!.join('|')}${r.orImage ? '|<file>' : ''}` : `<${r.arg ?? 'value'}${r.many ? '...' : ''}>`;
  return code(`--${flagOf(r)} ${value}`);
}

function rangeOf(r: Row): string {
  if (r.kind !== 'int' && r.kind !== 'number' && r.kind !== 'numbers' && r.kind !== 'ints') return '';
  const whole = r.kind === 'int' || r.kind === 'ints' ? 'whole, ' : '';
  const lo = r.min === undefined ? '' : `${r.exclusiveMin ? '>' : '≥'} ${r.min}`;
  const hi = r.max === undefined ? '' : `≤ ${r.max}`;
  const each = r.kind === 'numbers' || r.kind === 'ints' ? 'each ' : '';
  return `${whole}${each}${[lo, hi].filter(Boolean).join(', ')}`;
}

function defaultCell(r: Row): string {
  const shown = new Map<Job, string>();
  for (const job of JOBS) {
    if (!(r.jobs as readonly Job[]).includes(job)) continue;
    const j = forJob(r, job);
    shown.set(job, j.required || r.required ? 'required' : j.default === undefined ? '' : r.negate ? 'on' : j.default === false ? 'off' : shownValue(j.default));
  }
  const [first, ...rest] = [...shown];
  if (rest.every(([, d]) => d === first[1])) return first[1];
  return [first[1], ...rest.filter(([, d]) => d !== first[1] && d !== '').map(([job, d]) => `${JOB_NAMES[job]}: ${d}`)].filter(Boolean).join('; ');
}

/** The markdown table of every option: flag, API field, range, default(s), commands, meaning. */
export function optionsMarkdown(): string {
  const lines = ['| flag | API field | range | default | commands | meaning |', '|---|---|---|---|---|---|'];
  for (const r of OPTION_ROWS as readonly Row[]) {
    const upload = (r.kind === 'image' || r.kind === 'images') && r.jobs.some((j) => API_JOBS.includes(j));
    const api = upload ? `${fieldOf(r)} (file)` : isApiField(r) ? fieldOf(r) : '';
    const jobs = (r.jobs as readonly Job[]).map((j) => JOB_NAMES[j]).join(', ');
    const doc = renderTemplate(r.negate ? (r.noDoc ?? r.doc) : r.doc, cliName);
    lines.push(`| ${cell(flagCell(r))} | ${api ? code(api) : ''} | ${cell(rangeOf(r))} | ${cell(defaultCell(r))} | ${jobs} | ${cell(doc)} |`);
  }
  return lines.join('\n');
}

/** `readme` with the block between the markers replaced by the current table (markers must be there). */
export function withOptionsTable(readme: string): string {
  const a = readme.indexOf(TABLE_BEGIN);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error('README has no option table markers');
  return `${readme.slice(0, a + TABLE_BEGIN.length)}\n${optionsMarkdown()}\n${readme.slice(b)}`;
}
