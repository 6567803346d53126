// A tiny static file server for the browser tests, on 127.0.0.1 (a free port): files and folders
// mounted at URL prefixes, byte ranges (206), the cross-origin isolation headers, and a log of requests.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

/** What a mount serves: a file or folder on disk, or bytes held in memory. */
export type Mount = string | { bytes: Uint8Array; type?: string };

export interface StaticServer {
  url: string;
  /** Requests seen: path and the Range header, if any. */
  requests: { path: string; range?: string; status: number }[];
  close(): Promise<void>;
}

export interface StaticOptions {
  /** Send the COOP/COEP headers (default true). */
  isolate?: boolean;
  /** Ignore Range headers (a server without range support: always 200 and the whole file). */
  noRanges?: boolean;
}

function resolveMount(mounts: Record<string, Mount>, urlPath: string): { bytes?: Uint8Array; file?: string; type: string } | null {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const p of prefixes) {
    if (urlPath !== p && !urlPath.startsWith(p.endsWith('/') ? p : `${p}/`)) continue;
    const m = mounts[p];
    if (typeof m !== 'string') return urlPath === p ? { bytes: m.bytes, type: m.type ?? 'application/octet-stream' } : null;
    let file = urlPath === p ? m : path.join(m, decodeURIComponent(urlPath.slice(p.length)));
    if (!path.resolve(file).startsWith(path.resolve(m))) return null;
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return null;
    return { file, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
  }
  return null;
}

export async function startStaticServer(mounts: Record<string, Mount>, opts: StaticOptions = {}): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined;
    const done = (status: number) => requests.push({ path: urlPath, range, status });
    if (opts.isolate !== false) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    const hit = resolveMount(mounts, urlPath);
    if (!hit) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return done(404);
    }
    const body = hit.bytes ?? fs.readFileSync(hit.file!);
    res.setHeader('Content-Type', hit.type);
    if (!opts.noRanges) res.setHeader('Accept-Ranges', 'bytes');
    const m = !opts.noRanges && range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      const a = Number(m[1]);
      const b = Math.min(m[2] === '' ? body.byteLength - 1 : Number(m[2]), body.byteLength - 1);
      if (a >= body.byteLength || b < a) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.byteLength}` }).end();
        return done(416);
      }
      res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${body.byteLength}`, 'Content-Length': String(b - a + 1) });
      res.end(Buffer.from(body.buffer, body.byteOffset + a, b - a + 1));
      return done(206);
    }
    res.writeHead(200, { 'Content-Length': String(body.byteLength) });
    res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    done(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
