// ffmpeg, the one outside binary styleloom starts for media it does not read itself (sound and video):
// the binary shipped inside the @ffmpeg-installer npm package, else the system's `ffmpeg`; one buffered run.
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

/** The ffmpeg binary, or E_INPUT saying that `what` needs it and how to get it (`alternative`: what works without). */
export function requireFfmpeg(what: string, alternative = 'use a WAV file'): string {
  const p = ffmpegPath();
  if (!p) throw new StyleloomError('E_INPUT', `${what} needs ffmpeg, which is not installed; reinstall styleloom (npm ci brings @ffmpeg-installer/ffmpeg), install ffmpeg, or ${alternative}`);
  return p;
}

/** The last non-empty line of ffmpeg's stderr (its error), or the exit status. */
export const lastLine = (err: string, code: number | null): string => err.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? `exit status ${code}`;

/** Runs ffmpeg with `args`, feeding `input` on stdin; resolves to stdout, rejects with ffmpeg's last error line. */
export function runFfmpeg(bin: string, args: string[], input: Uint8Array | null, limitBytes: number, signal?: AbortSignal): Promise<Buffer> {
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
      else reject(new Error(lastLine(err, code)));
    });
    if (input && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** The global tags of a media file (ffmpeg's ffmetadata dump, unescaped), lower-case keys. */
export async function ffmpegTags(file: string): Promise<Record<string, string>> {
  const bin = requireFfmpeg(`reading the tags of ${file}`);
  const text = (await runFfmpeg(bin, ['-i', file, '-f', 'ffmetadata', 'pipe:1'], null, 1 << 24)).toString('utf8');
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
