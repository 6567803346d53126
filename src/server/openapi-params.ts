// The OpenAPI schema of a job's text fields, read off the option table: one property per API row of
// every job of the API (image, fast, audio, video), with real minimum/maximum/enum/default keywords.
import { renderTemplate } from '../errors.js';
import { apiName, apiRowsFor, fieldOf, type JobRow } from '../options/names.js';
import type { Job } from '../options/types.js';

export const BOOL_STRINGS = ['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'] as const;

/** The schema of one field (multipart text: booleans and lists travel as strings). */
export function fieldSchema(j: JobRow): Record<string, unknown> {
  const r = j.row;
  const s: Record<string, unknown> = {};
  const bounds = (into: Record<string, unknown>) => {
    if (j.min !== undefined) into.minimum = j.min;
    if (j.max !== undefined) into.maximum = j.max;
    if (r.exclusiveMin) into.exclusiveMinimum = true;
  };
  switch (r.kind) {
    case 'int':
    case 'number':
      s.type = r.kind === 'int' ? 'integer' : 'number';
      bounds(s);
      break;
    case 'boolean':
      Object.assign(s, { type: 'string', enum: [...BOOL_STRINGS] });
      break;
    case 'choice':
      Object.assign(s, { type: 'string', enum: [...r.choices!] });
      break;
    case 'layers':
      Object.assign(s, { type: 'string', pattern: '^[^,]+(,[^,]+)*$', 'x-items': { type: 'string' } });
      break;
    case 'numbers':
    case 'ints': {
      const items: Record<string, unknown> = { type: r.kind === 'ints' ? 'integer' : 'number' };
      bounds(items);
      Object.assign(s, { type: 'string', pattern: '^[^,]+(,[^,]+)*$', 'x-items': items });
      break;
    }
    default:
      s.type = 'string';
  }
  if (j.default !== undefined) s.default = r.kind === 'boolean' ? String(j.default) : j.default;
  return s;
}

const MODES: [Job, string][] = [['image', 'gatys'], ['fast', 'fast'], ['audio', 'audio'], ['video', 'video']];

/**
 * The properties of JobRequest for every mode: a field of several modes carries the schema of the
 * first (gatys), and its description says what differs in the others.
 */
export function jobFieldSchemas(): Record<string, Record<string, unknown>> {
  const props: Record<string, Record<string, unknown>> = {};
  const modes = new Map<string, string[]>();
  for (const [job, mode] of MODES) {
    for (const j of apiRowsFor(job)) {
      const name = fieldOf(j.row);
      modes.set(name, [...(modes.get(name) ?? []), mode]);
      const doc = renderTemplate(j.doc, apiName);
      if (!props[name]) {
        props[name] = { ...fieldSchema(j), description: doc };
      } else {
        const other = fieldSchema(j);
        const d = `${mode}: ${doc}${other.default === undefined && props[name].default !== undefined ? '' : other.default !== undefined ? ` (default ${String(other.default)})` : ''}`;
        props[name].description = `${String(props[name].description)}; ${d}`;
        props[name][`x-${mode}`] = other;
      }
    }
  }
  for (const [name, ms] of modes) {
    if (ms.length < MODES.length) props[name].description = `${String(props[name].description)} (mode=${ms.join(', ')} only)`;
  }
  return props;
}
