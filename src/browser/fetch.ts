// fetch() for weights and models with one-line E_DOWNLOAD errors (HTTP status, network or CORS failure),
// and Cache Storage where the page has it (a secure context), so a second run reads locally.
import { StyleloomError } from '../errors.js';

export function downloadError(url: string, problem: string): StyleloomError {
  return new StyleloomError('E_DOWNLOAD', `${url}: ${problem}`);
}

/** GET `url` (bytes [a, b) when `range` is given); any status but 200/206 is an error naming `what` (e.g. 'weights'). */
export async function get(url: string, range?: [number, number], what = ''): Promise<Response> {
  const named = what ? `${what} ${url}` : url;
  let r: Response;
  try {
    r = await fetch(url, range ? { headers: { Range: `bytes=${range[0]}-${range[1] - 1}` } } : {});
  } catch (e) {
    throw downloadError(named, `cannot be fetched (${(e as Error)?.message ?? e}); check the URL and that the server allows this page to read it (CORS)`);
  }
  if (!r.ok) throw downloadError(named, `the server answered ${r.status}${r.statusText ? ` ${r.statusText}` : ''}; check the URL`);
  return r;
}

export const bytesOf = async (r: Response): Promise<Uint8Array> => new Uint8Array(await r.arrayBuffer());

/** The cache styleloom keeps its downloads in, or null where Cache Storage is unavailable. */
export async function openCache(name: string): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(name);
  } catch {
    return null; // e.g. an insecure origin or storage disabled: no cache
  }
}
