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
