// Checks of a command's output path before any work: a supported extension, an existing directory
// that takes new files, not a directory itself, and never one of the command's own input files.
import fs from 'node:fs';
import path from 'node:path';
import { StyleloomError } from '../errors.js';
import { formatForPath } from '../image/io.js';
import { checkCanWrite } from '../util/atomic.js';

const real = (p: string): string => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * Throws E_OUTPUT / E_USAGE unless `out` can be written: `flag` is how the command names it, `inputs`
 * the files it reads (the output may not be one of them: writing it would destroy the input).
 */
export function checkOutputPath(out: string, inputs: readonly (string | undefined)[] = [], opts: { flag?: string; example?: string } = {}): void {
  const flag = opts.flag ?? '--out';
  formatForPath(out);
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out} is a directory; give a file name such as ${path.join(out, opts.example ?? 'out.png')}`);
  const dir = path.dirname(path.resolve(out));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out}: directory ${path.dirname(out)} does not exist; create it first`);
  const target = real(out);
  for (const input of inputs) {
    if (input !== undefined && real(input) === target) {
      throw new StyleloomError('E_USAGE', `${flag} ${out} is the input image ${input}: writing it would destroy the input; choose another output name`);
    }
  }
  checkCanWrite(path.resolve(out));
}

/** Throws E_INPUT unless each of `files` exists and is not a directory. */
export function checkInputFiles(files: readonly string[]): void {
  for (const c of files) {
    const st = fs.statSync(c, { throwIfNoEntry: false });
    if (!st) throw new StyleloomError('E_INPUT', `${c}: no such file; check the path`);
    if (st.isDirectory()) throw new StyleloomError('E_INPUT', `${c}: is a directory, not an image; name an image file`);
  }
}
