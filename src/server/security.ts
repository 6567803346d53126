// Access control of the HTTP service: the Host check (DNS rebinding), the Origin check on
// state-changing requests (cross-site forms and scripts), and the optional token (Bearer header, or
// the page's HttpOnly SameSite=Strict cookie set by visiting /?token=...), compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './params.js';

export interface SecurityOptions {
  /** When set, every /api route but health and the OpenAPI document needs it. */
  token?: string;
  /** Host names (without port) the server answers to; '*' turns the check off. Loopback names always pass. */
  allowedHosts: readonly string[];
  /** Other origins may call the API (CORS on): the Origin check is off. */
  cors: boolean;
}

export const TOKEN_COOKIE = 'styleloom_token';
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
/** Routes open without the token: liveness for load balancers, and the API's description. */
const OPEN = new Set(['/api/health', '/api/openapi.json']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A fresh token for `serve` beyond loopback: 192 random bits, URL-safe. */
export const newToken = (): string => randomBytes(24).toString('base64url');

/** The token of `styleloom serve`: --token, else $STYLELOOM_TOKEN, else (beyond loopback only) a new one. */
export function serveToken(host: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { token?: string; generated: boolean } {
  const given = flag || env.STYLELOOM_TOKEN || undefined;
  if (given) return { token: given, generated: false };
  return isLoopback(host) ? { generated: false } : { token: newToken(), generated: true };
}

export const isLoopback = (host: string): boolean => LOOPBACK.includes(host.toLowerCase().replace(/^\[|\]$/g, '')) || /^127\./.test(host);

/** The host names a server listening on `host` answers to: the address itself, and for a wildcard this machine's name and addresses. */
export function hostsForListen(host: string): string[] {
  const h = host.replace(/^\[|\]$/g, '');
  if (h !== '0.0.0.0' && h !== '::') return [h];
  const out = [os.hostname()];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}

/** The host name of a Host header or an origin's authority, lower case, without the port or brackets. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
  const colon = a.indexOf(':');
  return colon >= 0 && a.indexOf(':', colon + 1) < 0 ? a.slice(0, colon) : a;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison (of digests, so that the length of the token does not leak either). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const k = part.indexOf('=');
    if (k > 0 && part.slice(0, k).trim() === name) {
      try {
        return decodeURIComponent(part.slice(k + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function givenToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h !== undefined) return /^Bearer /i.test(h) ? h.slice(7).trim() : '';
  return cookieValue(req.headers.cookie, TOKEN_COOKIE);
}

/** Registers the checks as the first onRequest hook, and the page login at GET /?token=. */
export function registerSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const anyHost = opts.allowedHosts.includes('*');
  const hosts = new Set([...LOOPBACK, ...opts.allowedHosts.map((h) => hostName(h))]);
  const hostAllowed = (h: string) => anyHost || hosts.has(h) || /^127\./.test(h);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const host = req.headers.host;
    if (host !== undefined && !hostAllowed(hostName(host))) {
      throw new HttpError(403, `host ${JSON.stringify(hostName(host).slice(0, 80))} is not one this server answers to; the operator can add it with --allow-host`);
    }
    if (!SAFE_METHODS.has(req.method) && !opts.cors) {
      const origin = req.headers.origin;
      if (origin !== undefined && !originAllowed(origin, host, hostAllowed)) {
        throw new HttpError(403, `cross-origin request from ${JSON.stringify(origin.slice(0, 80))} refused; use the server's own page or the API directly`);
      }
    }
    // CORS preflights carry no credentials (browsers never send Authorization on them)
    if (opts.token === undefined || req.method === 'OPTIONS') return;
    const url = req.url.split('?')[0];
    if (!url.startsWith('/api/') || OPEN.has(url)) return;
    if (!tokenMatches(givenToken(req), opts.token)) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'this server needs its token: send Authorization: Bearer <token> (the page: open /?token=<token> once)');
    }
  });

  if (opts.token === undefined) return;
  const token = opts.token;
  // the login of the web page: a correct /?token= sets the cookie and sends the browser to / (the token leaves the address bar)
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const [url, query] = req.url.split('?');
    if (url !== '/' || query === undefined || req.method !== 'GET') return;
    const given = new URLSearchParams(query).get('token');
    if (given === null) return;
    if (!tokenMatches(given, token)) throw new HttpError(401, 'wrong token');
    return reply
      .code(303)
      .header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`)
      .header('location', '/')
      .send();
  });
}

/** An Origin is this server's own when its host is the request's Host or an allowed name. */
function originAllowed(origin: string, host: string | undefined, hostAllowed: (h: string) => boolean): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and garbage
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (host !== undefined && u.host === host.toLowerCase()) return true;
  return hostAllowed(hostName(u.host));
}
