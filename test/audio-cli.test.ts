// `styleloom audio` end to end at tiny sizes: a run with --json, --spectrogram and the provenance record;
// FLAC through ffmpeg both ways; every bad input of issue 12 (one line, non-zero exit, no output file);
// Ctrl-C stops cleanly with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readSound, readSoundMetadata, writeSound } from '../src/audio/sound-io.js';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { ffmpegPath } from '../src/media/ffmpeg.js';
import { assertNoOutput, assertOneLineError, BIN, CHELSEA, cliEnv, runCli, showRun, tempDir } from './helpers/cli.js';
import { chirp, tones, writeTestWav } from './helpers/sounds.js';

const SR = 8000;
const inputs = tempDir('styleloom-audio-in-');
const CONTENT = writeTestWav(path.join(inputs, 'chirp.wav'), chirp(SR, 0.5), SR);
const STYLE = writeTestWav(path.join(inputs, 'tones.wav'), tones(SR, 0.6), SR);
const TINY = ['--sr', String(SR), '--n-fft', '256', '--hop', '64', '--filters', '8', '--width', '5', '--iters', '3', '--gl-iters', '2', '--threads', '1'];

test('styleloom audio --json --spectrogram: the result, its JSON line, its provenance and the labelled picture', async () => {
  const dir = tempDir('styleloom-audio-out-');
  const out = path.join(dir, 'out.wav');
  const png = path.join(dir, 'spec.png');
  const r = await runCli(['audio', '--content', CONTENT, '--style', STYLE, ...TINY, '--out', out, '--spectrogram', png, '--json']);
  assert.equal(r.code, 0, showRun(r));
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['iters', 'ms_per_iter', 'loss', 'duration', 'out']);
  assert.deepEqual(Object.keys(j.loss), ['content', 'style', 'total']);
  assert.equal(j.iters, 3);
  assert.equal(j.duration, 0.5);
  assert.equal(j.out, out);
  const wav = decodeWav(fs.readFileSync(out), out);
  assert.equal(wav.sampleRate, SR);
  assert.equal(wav.channels[0].length, 4000);
  const meta = await readSoundMetadata(out);
  assert.match(meta.Software, /^styleloom /);
  assert.match(meta.Description, /audio style transfer .* from the content sound chirp\.wav in the style of tones\.wav/);
  assert.equal(JSON.parse(meta['styleloom:parameters']).filters, 8);
  assert.match(meta['styleloom:content-sha256'], /^[0-9a-f]{64}$/);
  const pic = await sharp(png).metadata();
  assert.equal(pic.format, 'png');
  assert.ok(pic.width! > 3 * 96 && pic.height! > 256, `${pic.width}x${pic.height}`);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['out.wav', 'spec.png']);
  const info = await runCli(['info', out, '--json']);
  assert.equal(info.code, 0, showRun(info));
  assert.deepEqual(JSON.parse(info.stdout), meta, 'styleloom info reads the record back');
});

test('FLAC through ffmpeg: written with its tags, read back (resampled and mixed down) as the same sound', { skip: ffmpegPath() ? false : 'no ffmpeg' }, async () => {
  const dir = tempDir('styleloom-audio-flac-');
  const file = path.join(dir, 'a.flac');
  const x = tones(16000, 0.25, [1000]);
  const metadata = { Software: 'styleloom test', Description: 'a tone; with = and # and \\ inside', 'styleloom:parameters': '{"sr":16000}' };
  await writeSound(file, { samples: x, sampleRate: 16000 }, { metadata });
  assert.deepEqual(fs.readdirSync(dir), ['a.flac']);
  assert.deepEqual(await readSoundMetadata(file), metadata, 'the provenance record in the FLAC tags');
  const { sound } = await readSound(file, { sampleRate: 8000, maxSeconds: 10, what: 'a.flac' });
  assert.equal(sound.samples.length, 2000);
  const back = (await readSound(file, { sampleRate: 16000, maxSeconds: 10, what: 'a.flac' })).sound.samples;
  let err = 0;
  for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(back[i] - x[i]));
  assert.ok(err < 1e-4, `FLAC (16-bit) round trip error ${err}`);
  // a stereo WAV is mixed down to the average of its channels
  const st = Buffer.from(encodeWav(Float32Array.of(0.5, -0.5, 0.25, 0.25), 8000, 'f32'));
  st.writeUInt16LE(2, 22); // the same samples read as 2 channels x 2 frames
  st.writeUInt16LE(8, 32);
  fs.writeFileSync(path.join(dir, 's.wav'), st);
  assert.deepEqual([...(await readSound(path.join(dir, 's.wav'), { sampleRate: 8000, maxSeconds: 10, what: 's' })).sound.samples], [0, 0.25]);
});

/** Writes a bad input file and returns its path. */
const badFile = (name: string, data: Uint8Array | string) => {
  const p = path.join(inputs, name);
  fs.writeFileSync(p, data);
  return p;
};

const wavBytes = fs.readFileSync(CONTENT);
const BAD: [string, () => string[], RegExp][] = [
  ['an image given as audio', () => ['--content', CHELSEA], /chelsea\.png is a PNG image, not a sound/],
  ['a text file given as audio', () => ['--content', badFile('notes.wav', 'this is not a sound\n')], /notes\.wav is a text file, not a sound/],
  ['an empty file', () => ['--content', badFile('empty.wav', '')], /empty\.wav is empty \(0 bytes\)/],
  ['a zero-length WAV (header only)', () => ['--content', badFile('zero.wav', encodeWav(new Float32Array(0), SR))], /zero\.wav: the sound has no samples \(zero length\)/],
  ['a truncated WAV', () => ['--content', badFile('cut.wav', wavBytes.subarray(0, 2000))], /cut\.wav: the WAV file is truncated or corrupt \(its data chunk announces 8000 bytes but only 1956 follow\)/],
  ['a file no decoder knows (through ffmpeg)', () => ['--content', badFile('noise.mp3', Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 251 || 1))], /noise\.mp3: not a sound file styleloom or ffmpeg can decode/],
  ['a sound shorter than the filter width in frames', () => ['--content', writeTestWav(path.join(inputs, 'short.wav'), chirp(SR, 0.04), SR)], /short\.wav is too short: 0\.040 s makes 6 STFT frames, fewer than the filter width --width 7/],
  ['a duration over the limit', () => ['--content', CONTENT, '--max-duration', '0.3'], /chirp\.wav is 0\.5 s long, over the limit of --max-duration 0\.3 s/],
  ['an unknown output extension', () => ['--content', CONTENT, '--out', '@DIR/out.ogg'], /--out .*out\.ogg: unknown sound format \.ogg; use \.wav, \.flac or \.mp3/],
];

for (const [what, args, re] of BAD) {
  test(`bad input: ${what} — one line, non-zero exit, no output file`, async () => {
    const dir = tempDir('styleloom-audio-bad-');
    const a = args().map((s) => s.replace('@DIR', dir));
    const out = a.includes('--out') ? a[a.indexOf('--out') + 1] : path.join(dir, 'out.wav');
    const extra = a.includes('--out') ? [] : ['--out', out];
    const width = what.includes('shorter') ? ['--width', '7'] : [];
    const r = await runCli(['audio', ...a, '--style', STYLE, ...TINY, ...width, ...extra, '--spectrogram', path.join(dir, 's.png')]);
    assertOneLineError(r, { match: [re] });
    assertNoOutput(out);
  });
}

test('Ctrl-C stops within an iteration: exit 130, no output file', async () => {
  const dir = tempDir('styleloom-audio-int-');
  const out = path.join(dir, 'out.wav');
  const child = spawn(process.execPath, [BIN, 'audio', '--content', CONTENT, '--style', STYLE, ...TINY, '--iters', '100000', '--print-every', '1', '--out', out], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (!sent && /iter \d+\/100000/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /styleloom: cancelled/);
  assertNoOutput(out);
});
