// Downloads VGG-19 weights into the cache: streamed to <dest>.part while hashing, resumable with
// HTTP Range, SHA-256 verified, checked to be usable safetensors, then renamed into place atomically.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StyleloomError } from '../errors.js';
import { syncDirectory } from '../util/atomic.js';
import { readSafetensors } from './safetensors.js';
import { cachedWeightsPath } from './weights.js';

/** timm's copy of torchvision's ImageNet VGG-19 (BSD-3-Clause): RGB, 0..1, mean/std normalised. */
export const DEFAULT_WEIGHTS_URL = 'https://huggingface.co/timm/vgg19.tv_in1k/resolve/main/model.safetensors';

/**
 * Known SHA-256 per URL, used when neither --sha256 nor the server states one. Only hashes that
 * were verified against the real file belong here; none has been yet (the hub reports the hash in
 * X-Linked-Etag, which is used instead).
 */
export const PINNED_SHA256: Readonly<Record<string, string>> = Object.freeze({});

export interface DownloadOptions {
  url?: string;
  dest?: string;
  sha256?: string;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/** The SHA-256 in an ETag-style header (`"abc…"`, `W/"abc…"`), or undefined if it is not one. */
export function sha256FromEtag(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/^W\//i, '').replace(/^"|"$/g, '').toLowerCase();
  return SHA256_RE.test(v) ? v : undefined;
}

function downloadError(message: string, cause?: unknown): StyleloomError {
  return new StyleloomError('E_DOWNLOAD', message, cause === undefined ? undefined : { cause });
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    const inner = cause instanceof Error ? `: ${cause.message}` : '';
    return `${e.message}${inner}`.replace(/\s+/g, ' ');
  }
  return String(e);
}

function abortedError(url: string): StyleloomError {
  return new StyleloomError('E_ABORTED', `download of ${url} cancelled; run the same command again to resume`);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

// `bytes start-end/total` gives {start, total}; `bytes */total` (on a 416) gives {total}.
function parseContentRange(value: string | null): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!m) return {};
  return { start: m[1] !== undefined ? Number(m[1]) : undefined, total: m[2] !== '*' ? Number(m[2]) : undefined };
}

interface Answer {
  res: Response;
  /** SHA-256 announced on the way (a redirect's X-Linked-Etag / ETag, as the Hugging Face hub sends). */
  announced?: string;
}

const MAX_REDIRECTS = 10;

/**
 * GET with an optional Range, following redirects by hand so that the headers of each hop can be
 * read: the hub states the file's SHA-256 on its redirect, not on the CDN's final answer.
 */
async function request(fetchImpl: typeof fetch, url: string, from: number, signal?: AbortSignal): Promise<Answer> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (from > 0) headers.range = `bytes=${from}-`;
  let linked: string | undefined;
  let etag: string | undefined;
  let target = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetchImpl(target, { headers, signal, redirect: 'manual' });
    } catch (e) {
      if (signal?.aborted) throw abortedError(url);
      throw downloadError(`cannot reach ${target} (${describe(e)}); check the network connection and the URL`, e);
    }
    linked ??= sha256FromEtag(res.headers.get('x-linked-etag'));
    etag ??= sha256FromEtag(res.headers.get('etag'));
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || !location) return { res, announced: linked ?? etag };
    await discard(res);
    if (hop >= MAX_REDIRECTS) throw downloadError(`${url}: more than ${MAX_REDIRECTS} redirects; check the URL`);
    target = new URL(location, target).toString();
  }
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

function expectedHash(opts: DownloadOptions, url: string, announced: string | undefined): string {
  const known = opts.sha256 ?? announced ?? PINNED_SHA256[url];
  if (!known) {
    throw downloadError(`no SHA-256 is known for ${url} (the server sent none and it is not pinned); pass --sha256 HASH to verify the download`);
  }
  return known;
}

/** Streams the response body into the open file, hashing it; returns the bytes written. */
async function streamBody(res: Response, fh: FileHandle, hash: Hash, start: number, total: number | undefined, url: string, opts: DownloadOptions): Promise<number> {
  let received = start;
  const interrupted = (cause?: unknown): StyleloomError =>
    downloadError(`download interrupted after ${received} of ${total ?? 'unknown'} bytes from ${url}${cause ? ` (${describe(cause)})` : ''}; run the same command again to resume`, cause);
  if (!res.body) throw interrupted();
  const reader = res.body.getReader();
  opts.onProgress?.(received, total);
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (opts.signal?.aborted) throw abortedError(url);
        throw interrupted(e);
      }
      if (chunk.done) break;
      hash.update(chunk.value);
      await fh.write(chunk.value);
      received += chunk.value.byteLength;
      opts.onProgress?.(received, total);
    }
  } finally {
    reader.releaseLock();
  }
  if (total !== undefined && received < total) throw interrupted();
  return received;
}

/** Checks that the file is safetensors with a VGG-19 conv1_1 (features.0.weight [O,3,3,3] and bias). */
async function checkUsable(path: string, url: string): Promise<void> {
  try {
    const st = await readSafetensors(path, { include: (n) => n === 'features.0.weight' || n === 'features.0.bias' });
    const w = st.tensors.get('features.0.weight');
    const b = st.tensors.get('features.0.bias');
    const s = w?.shape ?? [];
    if (!w || !b || s.length !== 4 || s[1] !== 3 || s[2] !== 3 || s[3] !== 3 || b.data.length !== s[0]) {
      throw new Error('it has no VGG-19 conv1_1 (features.0.weight [out,3,3,3] and features.0.bias)');
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw downloadError(`${url} is not a usable VGG-19 safetensors file (${why}); check the URL`, e);
  }
}

/**
 * Downloads the weights to `dest` (default: the cache file), resuming a previous `.part` when the
 * server allows, verifying the SHA-256 (from opts, the server's X-Linked-Etag/ETag, or the pinned
 * table) and the file's structure before moving it into place.
 */
export async function downloadWeights(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const url = opts.url ?? DEFAULT_WEIGHTS_URL;
  const dest = opts.dest ?? cachedWeightsPath();
  const part = `${dest}.part`;
  const fetchImpl = opts.fetchImpl ?? fetch;
  if (opts.sha256 !== undefined && !SHA256_RE.test(opts.sha256.toLowerCase())) {
    throw new StyleloomError('E_USAGE', `--sha256 ${opts.sha256} is not a SHA-256 (64 hex digits); copy the full hash`);
  }
  const options: DownloadOptions = { ...opts, sha256: opts.sha256?.toLowerCase() };
  if (opts.signal?.aborted) throw abortedError(url);

  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (e) {
    throw new StyleloomError('E_OUTPUT', `cannot create the directory ${dirname(dest)} (${describe(e)}); set STYLELOOM_CACHE to a writable directory`, { cause: e });
  }

  let existing = await sizeOf(part);
  let answer = await request(fetchImpl, url, existing, opts.signal);
  let res = answer.res;
  let append = false;
  let total: number | undefined;

  if (existing > 0 && res.status === 416) {
    // The part may already be whole (e.g. the last run stopped just before the rename).
    const { total: t } = parseContentRange(res.headers.get('content-range'));
    await discard(res);
    if (t !== existing) {
      await removeQuietly(part);
      existing = 0;
      answer = await request(fetchImpl, url, 0, opts.signal);
      res = answer.res;
    }
  }

  if (existing > 0 && res.status === 416) {
    total = existing;
    append = true;
  } else if (existing > 0 && res.status === 206) {
    const range = parseContentRange(res.headers.get('content-range'));
    if (range.start === existing) {
      append = true;
      const len = Number(res.headers.get('content-length'));
      total = range.total ?? (Number.isFinite(len) && res.headers.has('content-length') ? existing + len : undefined);
    } else {
      // The server resumed from somewhere else: start over.
      await discard(res);
      answer = await request(fetchImpl, url, 0, opts.signal);
      res = answer.res;
    }
  }
  if (!append) {
    if (res.status !== 200) {
      await discard(res);
      const keep = (await sizeOf(part)) > 0 ? ` (the partial file ${part} is kept for resuming)` : '';
      throw downloadError(`${url}: server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${keep}; check the URL or try again later`);
    }
    existing = 0;
    const len = res.headers.get('content-length');
    total = len !== null && /^\d+$/.test(len.trim()) ? Number(len) : undefined;
  }

  let expected: string;
  try {
    expected = expectedHash(options, url, answer.announced);
  } catch (e) {
    await discard(res);
    throw e;
  }

  const hash = createHash('sha256');
  let bytes: number;
  let fh: FileHandle;
  try {
    if (append) await hashFile(part, hash);
    fh = await open(part, append ? 'a' : 'w');
  } catch (e) {
    await discard(res);
    throw new StyleloomError('E_OUTPUT', `cannot write ${part} (${describe(e)}); check the permissions and free space of ${dirname(part)}`, { cause: e });
  }
  try {
    bytes = res.status === 416 ? existing : await streamBody(res, fh, hash, existing, total, url, options);
    await fh.sync();
  } catch (e) {
    await discard(res);
    if (e instanceof StyleloomError) throw e;
    throw new StyleloomError('E_OUTPUT', `cannot write ${part} (${describe(e)}); check the free space of ${dirname(part)}`, { cause: e });
  } finally {
    await fh.close().catch(() => undefined);
  }

  const got = hash.digest('hex');
  if (got !== expected) {
    await removeQuietly(part);
    throw downloadError(`checksum mismatch for ${url}: expected ${expected}, got ${got}; the download is corrupt — run it again`);
  }
  try {
    await checkUsable(part, url);
  } catch (e) {
    await removeQuietly(part);
    throw e;
  }
  try {
    await rename(part, dest);
    await syncDirectory(dirname(dest));
  } catch (e) {
    throw new StyleloomError('E_OUTPUT', `cannot move ${part} to ${dest} (${describe(e)}); check the permissions of ${dirname(dest)}`, { cause: e });
  }
  return { path: dest, sha256: got, bytes };
}

