// Atomic file writes: data goes to a temp file in the target's directory, is fsynced, then renamed
// over the target, so readers see the old file or the whole new one and failures leave nothing behind.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StyleloomError } from '../errors.js';

/** The temp file name used for `path`: `.<name>.<pid>.<random>.tmp`, in the same directory. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** One-line E_OUTPUT message for a failed write of `path` (what is wrong, what to do). */
export function outputErrorMessage(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const dir = dirname(path);
  switch (code) {
    case 'ENOENT':
      return `${path}: directory ${dir} does not exist; create it first`;
    case 'ENOTDIR':
      return `${path}: ${dir} is not a directory; choose another output path`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied; choose a writable location or fix the permissions of ${dir}`;
    case 'EROFS':
      return `${path}: the file system is read-only; write somewhere else`;
    case 'ENOSPC':
      return `${path}: no space left on the device; free some space or write somewhere else`;
    case 'EDQUOT':
      return `${path}: disk quota exceeded; free some space or write somewhere else`;
    case 'EISDIR':
      return `${path}: is a directory; choose a file name`;
    case 'ENAMETOOLONG':
      return `${path}: the file name is too long; choose a shorter one`;
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return `${path}: cannot write the file (${detail.replace(/\s+/g, ' ')}); check the path and try again`;
    }
  }
}

/**
 * Throws E_OUTPUT unless a file can be created beside `path` (in its directory): creates and removes
 * the temp file a write would use, so that a run learns before any work that its output cannot be
 * written (read-only or full file systems, permissions, directories like /proc that take no files).
 */
export function checkCanWrite(path: string): void {
  const tmp = tempPathFor(path);
  try {
    closeSync(openSync(tmp, 'wx', 0o666));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    // the directory exists (callers check that first), so ENOENT means it takes no new files
    const message = code === 'ENOENT' ? `${path}: cannot create files in ${dirname(path)}; choose another output path` : outputErrorMessage(path, err);
    throw new StyleloomError('E_OUTPUT', message, { cause: err });
  }
  try {
    unlinkSync(tmp);
  } catch {
    // removing our own empty probe failed: nothing to report, nothing else left behind
  }
}

/**
 * Write `data` (or its chunks, back to back, without concatenating them) to `path` atomically; on
 * failure the temp file is removed and E_OUTPUT is thrown.
 */
export async function writeFileAtomic(path: string, data: Buffer | Uint8Array | readonly Uint8Array[]): Promise<void> {
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  let created = false;
  try {
    fh = await open(tmp, 'wx', 0o666);
    created = true;
    for (const chunk of Array.isArray(data) ? data : [data]) await fh.writeFile(chunk);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    created = false;
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    if (created) await unlink(tmp).catch(() => undefined);
    throw new StyleloomError('E_OUTPUT', outputErrorMessage(path, err), { cause: err });
  }
  await syncDirectory(dirname(path));
}

/** Best effort: fsync the directory so the rename itself survives a crash (not possible everywhere). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some platforms and file systems refuse to open or fsync a directory; the data is already safe.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
