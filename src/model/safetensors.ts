// Reads safetensors files from disk (the format itself is safetensors-format.ts): the header first,
// then only the tensors wanted, each read checked, errors as one E_INPUT/E_WEIGHTS line.
import { open } from 'node:fs/promises';
import { StyleloomError } from '../errors.js';
import { CORRUPT, fail, parseHeader, readHeaderLength, toFloat32, type ReadOptions, type Safetensors, type Tensor } from './safetensors-format.js';

export * from './safetensors-format.js';

function ioError(path: string, e: unknown): StyleloomError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new StyleloomError('E_INPUT', `${path}: no such weights file; check the path or run styleloom weights download`, { cause: e });
  }
  const why = e instanceof Error ? e.message : String(e);
  return new StyleloomError('E_INPUT', `${path}: cannot read the weights file (${why}); check its permissions`, { cause: e });
}

async function readExactly(fh: import('node:fs/promises').FileHandle, length: number, position: number, path: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) fail(path, `the file ended early while reading (it changed on disk?); ${CORRUPT}`);
    done += bytesRead;
  }
  return buf;
}

/**
 * Reads a safetensors file from disk: the header first, then only the bytes of the tensors
 * wanted (so a 575 MB file with a classifier costs only the memory of the tensors loaded).
 */
export async function readSafetensors(path: string, options: ReadOptions = {}): Promise<Safetensors> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new StyleloomError('E_INPUT', `${path}: is not a regular file; give the path of a .safetensors file`);
    const size = st.size;
    const prefix = size >= 8 ? await readExactly(fh, 8, 0, path) : Buffer.alloc(0);
    const len = readHeaderLength(prefix, size, path);
    const header = parseHeader(await readExactly(fh, len, 8, path), size - 8 - len, path);
    const tensors = new Map<string, Tensor>();
    for (const [tensor, e] of header.entries) {
      if (options.include && !options.include(tensor)) continue;
      const bytes = await readExactly(fh, e.end - e.begin, header.dataStart + e.begin, path);
      tensors.set(tensor, { dtype: e.dtype, shape: [...e.shape], data: toFloat32(bytes, e.dtype) });
    }
    return { metadata: header.metadata, tensors, entries: header.entries };
  } catch (e) {
    throw e instanceof StyleloomError ? e : ioError(path, e);
  } finally {
    await fh.close();
  }
}
