// Argument parsers for the CLI: strict numbers and comma lists, failing with commander's one-line errors.
import { InvalidArgumentError } from 'commander';

export function number(value: string): number {
  const v = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`"${value}" is not a finite number.`);
  return v;
}

export function integer(value: string): number {
  const v = number(value);
  if (!Number.isInteger(v)) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  return v;
}

/** A duration in seconds: 90, 90s, 30m, 12h, 7d. */
export function duration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(value);
  if (!m || Number(m[1]) <= 0) throw new InvalidArgumentError(`"${value}" is not a duration > 0 (e.g. 90s, 30m, 12h, 7d).`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

export function list(value: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) throw new InvalidArgumentError('expected a comma-separated list.');
  const empty = items.indexOf('');
  if (empty >= 0) throw new InvalidArgumentError(`entry ${empty + 1} of "${value}" is empty; write the list without empty entries (e.g. 1,2).`);
  return items;
}

export function numberList(value: string): number[] {
  return list(value).map(number);
}
