// ffmpeg, started by styleloom for the formats it does not read itself: the binary shipped inside the
// @ffmpeg-installer npm package, else the system's `ffmpeg`; decode to a float WAV on a pipe, encode from WAV.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { StyleloomError } from '../errors.js';

let cached: string | null | undefined;

/** The ffmpeg binary to run ($STYLELOOM_FFMPEG, the npm package's, else `ffmpeg` on PATH), or null. */
export function ffmpegPath(): string | null {
  if (cached !== undefined) return cached;
  const env = process.env.STYLELOOM_FFMPEG;
  if (env) return (cached = env);
  try {
    const p = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    if (p && fs.existsSync(p)) return (cached = p);
  } catch {
    // not installed for this platform: try the system's
  }
  const r = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  return (cached = r.status === 0 ? 'ffmpeg' : null);
}

function requireFfmpeg(what: string): string {
  const p = ffmpegPath();
  if (!p) throw new StyleloomError('E_INPUT', `${what} needs ffmpeg, which is not installed; reinstall styleloom (npm ci brings @ffmpeg-installer/ffmpeg), install ffmpeg, or use a WAV file`);
  return p;
}

/** Runs ffmpeg with `args`, feeding `input` on stdin; resolves to stdout, rejects with ffmpeg's first error line. */
function run(bin: string, args: string[], input: Uint8Array | null, limitBytes: number, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-hide_banner', '-nostdin', '-v', 'error', ...args], { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let got = 0;
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      got += d.length;
      if (got > limitBytes) child.kill('SIGKILL');
      else out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      if (got > limitBytes) reject(new Error('output over the limit'));
      else if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(err.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? `exit status ${code}`));
    });
    if (input && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/**
 * Decodes the first audio stream of `file` into a float WAV (its own channels and rate), at most
 * `maxSeconds` long plus a little (so that an over-long file is detected, not decoded whole).
 */
export async function ffmpegDecode(file: string, name: string, maxSeconds: number, signal?: AbortSignal): Promise<Buffer> {
  const bin = requireFfmpeg(`${name}: this format`);
  const args = ['-xerror', '-i', file, '-map', '0:a:0', '-vn', '-t', String(maxSeconds + 1), '-c:a', 'pcm_f32le', '-f', 'wav', 'pipe:1'];
  try {
    return await run(bin, args, null, 8 * 192000 * 8 * (maxSeconds + 2), signal);
  } catch (e) {
    if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
    const why = (e as Error).message.replace(/^.*?:\s*/, '').slice(0, 200);
    throw new StyleloomError('E_INPUT', `${name}: not a sound file styleloom or ffmpeg can decode (${why}); give a WAV, FLAC, MP3, OGG or M4A file`);
  }
}

/** Encodes WAV bytes to `out` in `format` ('flac' or 'mp3') with `metadata` tags; ffmpeg writes `out` itself. */
export async function ffmpegEncode(wav: Uint8Array, out: string, format: 'flac' | 'mp3', metadata: Record<string, string>): Promise<void> {
  const bin = requireFfmpeg(`writing ${format.toUpperCase()}`);
  const tags = Object.entries(metadata).flatMap(([k, v]) => ['-metadata', `${k}=${v}`]);
  const codec = format === 'mp3' ? ['-c:a', 'libmp3lame', '-q:a', '2'] : ['-c:a', 'flac'];
  try {
    await run(bin, ['-f', 'wav', '-i', 'pipe:0', ...codec, ...tags, '-f', format, '-y', out], wav, 1e9);
  } catch (e) {
    throw new StyleloomError('E_OUTPUT', `${out}: ffmpeg could not write ${format.toUpperCase()} (${(e as Error).message.slice(0, 200)})`);
  }
}

/** The global tags of a sound file (ffmpeg's ffmetadata dump, unescaped), lower-case keys. */
export async function ffmpegTags(file: string): Promise<Record<string, string>> {
  const bin = requireFfmpeg(`reading the tags of ${file}`);
  const text = (await run(bin, ['-i', file, '-f', 'ffmetadata', 'pipe:1'], null, 1 << 24)).toString('utf8');
  const out: Record<string, string> = {};
  // one "key=value" per line; = ; # \ and newlines inside are escaped with a backslash
  const lines = text.replace(/\\\n/g, '\u0000').split('\n');
  for (const l of lines) {
    if (l.startsWith(';') || l.startsWith('[')) continue;
    const m = /^((?:[^=\\]|\\.)*)=(.*)$/.exec(l);
    if (!m) continue;
    const un = (x: string) => x.replace(/\u0000/g, '\n').replace(/\\(.)/g, '$1');
    out[un(m[1]).toLowerCase()] = un(m[2]);
  }
  return out;
}
