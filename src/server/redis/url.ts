// Redis URLs as the CLI takes and prints them: checked (redis:// or rediss://) before anything
// connects, and shown without their password. No ioredis here, so the CLI can check flags cheaply.
import { StyleloomError } from '../../errors.js';

/** A redis:// or rediss:// URL (E_USAGE otherwise). */
export function checkRedisUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StyleloomError('E_USAGE', `--redis ${JSON.stringify(url)} is not a URL; give redis://host:port`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new StyleloomError('E_USAGE', `--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  return url;
}

/** The URL with its password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
