// The commander flags of a job, read off the option table, and the values they parsed mapped back to
// option keys; plus the CLI's rendering of option errors (--style-weight) and its one-line usage errors.
import { Command, Option } from 'commander';
import { renderMessage, renderTemplate, type StyleloomError } from '../errors.js';
import { integer, list, number, numberList } from './parse.js';
import { cliName, flagOf, rowsFor, type JobRow } from '../options/names.js';
import type { Job, Kind } from '../options/types.js';
import { checkValue } from '../options/validate.js';

const DEFAULT_ARG: Partial<Record<Kind, string>> = { int: 'n', number: 'x', layers: 'list', numbers: 'list', ints: 'list', path: 'file', string: 'value', image: 'file', images: 'file', choice: 'name' };
const PARSER: Partial<Record<Kind, (v: string) => unknown>> = { int: integer, number, layers: list, numbers: numberList, ints: numberList };

/** The commander Option of one row for one job. */
export function optionFor(j: JobRow): Option {
  const r = j.row;
  if (r.kind === 'boolean') {
    return new Option(`--${r.negate ? 'no-' : ''}${flagOf(r)}`, renderTemplate(r.negate ? (r.noDoc ?? r.doc) : j.doc, cliName));
  }
  const arg = `<${r.arg ?? DEFAULT_ARG[r.kind] ?? 'value'}${j.many ? '...' : ''}>`;
  const opt = new Option(`--${flagOf(r)} ${arg}`, renderTemplate(j.doc, cliName));
  const parse = PARSER[r.kind];
  if (parse) opt.argParser(parse);
  if (r.kind === 'choice' && !r.orImage) opt.choices(r.choices as string[]);
  if (j.default !== undefined) opt.default(j.default);
  if (j.required) opt.makeOptionMandatory(true);
  return opt;
}

/** Adds the flags of every row of `job` to `cmd` (those in `except` left out), in table order. */
export function addJobOptions(cmd: Command, job: Job, except: readonly string[] = []): Command {
  for (const j of rowsFor(job)) if (!except.includes(j.key)) cmd.addOption(optionFor(j));
  return cmd;
}

/** `styleloom <job>`: a subcommand named for its job, with that job's option-table flags, running `run`, its errors one line. */
export function addJobCommand(program: Command, job: Job, description: string, run: (flags: Record<string, unknown>, cmd: Command) => Promise<void>): Command {
  const cmd = program.command(job).description(description);
  addJobOptions(cmd, job).action(async (flags: Record<string, unknown>, c: Command) => run(flags, c));
  return oneLineErrors(cmd, `styleloom ${job} --help`);
}

/**
 * The parsed flags of `job` by option key (commander names `--style` `style`; the table's key is
 * `styles`), each checked against its row, so that a bad value stops the command before any work.
 */
export function jobValues(flags: Record<string, unknown>, job: Job): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const j of rowsFor(job)) {
    const v = flags[new Option(`--${flagOf(j.row)}`).attributeName()];
    if (v !== undefined) out[j.key] = checkValue(j, v);
  }
  return out;
}

/** The commander attribute of option `key` (to ask commander where a value came from). */
export const attributeOf = (key: string, job: Job): string | undefined => {
  const j = rowsFor(job).find((x) => x.key === key);
  return j ? new Option(`--${flagOf(j.row)}`).attributeName() : undefined;
};

/** An error's message as the CLI says it: options named by their flags. */
export const cliMessage = (e: StyleloomError): string => renderMessage(e, cliName);

/** Commander's own errors as one styleloom line pointing at the command's --help; no process.exit. */
export function oneLineErrors(cmd: Command, help = 'styleloom --help'): Command {
  cmd.exitOverride();
  cmd.configureOutput({ outputError: (str, write) => write(`styleloom: ${str.replace(/^error: /, '').trimEnd()} (see ${help})\n`) });
  return cmd;
}
