// Sound jobs over the HTTP API (issue 12): mode=audio with WAV uploads runs stylizeAudio, previews the
// spectrogram so far, and ends with a WAV (decoded and checked, provenance in its INFO chunk) and the
// content/style/result spectrogram sheet; texture jobs need no content; every bad upload is a one-line 400.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeWav, encodeWav, readWavInfo } from '../src/audio/wav.js';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { postJob, tinyPng, waitFor, type Part } from './helpers/server.js';
import { chirp, energyNear, tones } from './helpers/sounds.js';

const SR = 8000;
let srv: StyleloomServer;
const wav = (x: Float32Array) => Buffer.from(encodeWav(x, SR, 's16'));
const sound = (name: string, data: Buffer, filename = `${name}.wav`): Part => ({ name, file: data, filename, type: 'audio/wav' });
const fields = (f: Record<string, string>): Part[] => Object.entries(f).map(([name, value]) => ({ name, value }));
const TINY = { mode: 'audio', sr: String(SR), n_fft: '256', hop: '64', filters: '8', width: '5', iters: '4', gl_iters: '2' };

before(async () => {
  srv = await createServer({ dataDir: tempDir('styleloom-audio-srv-'), weights: VGG_PARTIAL, threads: 1, maxAudioSeconds: 1 });
});
after(async () => srv?.close());

test('a mode=audio job: progress over L-BFGS then Griffin-Lim, a spectrogram preview, a WAV result and the spectrogram sheet', async () => {
  const r = await postJob(srv.app, [sound('content', wav(chirp(SR, 0.5)), 'chirp.wav'), sound('style', wav(tones(SR, 0.6)), 'tones.wav'), ...fields({ ...TINY, style_weight: '10' })]);
  assert.equal(r.statusCode, 201, r.body);
  const job = await waitFor(srv.app, r.json().id);
  assert.equal(job.status, 'done', job.error);
  assert.equal(job.mode, 'audio');
  assert.deepEqual(job.progress, { iter: 6, iters: 6 }, 'four L-BFGS and two Griffin-Lim steps');
  assert.equal(job.lossHistory.length, 4);
  assert.ok(job.loss.total > 0 && Number.isFinite(job.loss.total));
  assert.equal(job.duration, 0.5);
  assert.equal(job.params.filters, 8);

  const res = await srv.app.inject({ url: job.resultUrl });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'audio/wav');
  assert.match(String(res.headers['content-disposition']), /\.wav"/);
  const out = decodeWav(res.rawPayload, 'result');
  assert.equal(out.sampleRate, SR);
  assert.equal(out.channels.length, 1);
  const x = out.channels[0];
  assert.equal(x.length, 4000);
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak > 0.9 && peak <= 0.99, `peak-normalised without clipping: ${peak}`);
  assert.ok(energyNear(x, SR, [500, 1500]) > energyNear(chirp(SR, 0.5), SR, [500, 1500]), "the result has more energy at the style's tones than the chirp");
  const info = readWavInfo(res.rawPayload);
  assert.match(info.ISFT, /^styleloom /);
  assert.match(info.ICMT, /from the content sound chirp\.wav in the style of tones\.wav/);

  const prev = await srv.app.inject({ url: job.previewUrl });
  assert.equal(prev.statusCode, 200);
  assert.equal((await sharp(prev.rawPayload).metadata()).format, 'png');
  const sheet = await srv.app.inject({ url: job.spectrogramUrl });
  assert.equal(sheet.statusCode, 200);
  const m = await sharp(sheet.rawPayload).metadata();
  assert.ok(m.format === 'png' && m.width! >= 3 * 96, `three panels: ${m.width}x${m.height}`);
});

test('a texture job (mode=audio, texture, no content) makes that many seconds from the style alone', async () => {
  const r = await postJob(srv.app, [sound('style', wav(tones(SR, 0.6))), ...fields({ ...TINY, texture: '0.4' })]);
  assert.equal(r.statusCode, 201, r.body);
  const job = await waitFor(srv.app, r.json().id);
  assert.equal(job.status, 'done', job.error);
  assert.equal(job.duration, 0.4);
  assert.equal(decodeWav((await srv.app.inject({ url: job.resultUrl })).rawPayload, 'texture').channels[0].length, 3200);
});

test('an image job has no spectrogram', async () => {
  const r = await postJob(srv.app, [{ name: 'content', file: await tinyPng(16, 16, 1), filename: 'c.png' }, { name: 'style', file: await tinyPng(16, 16, 2), filename: 's.png' }, ...fields({ size: '16', iters: '1' })]);
  const job = await waitFor(srv.app, r.json().id);
  assert.equal(job.spectrogramUrl, undefined);
  assert.equal((await srv.app.inject({ url: `/api/jobs/${job.id}/spectrogram.png` })).statusCode, 404);
});

test('bad sound jobs are one-line 400s, and nothing is queued', async () => {
  const content = sound('content', wav(chirp(SR, 0.5)));
  const style = sound('style', wav(tones(SR, 0.6)));
  const cases: [string, () => Promise<Part[]>, RegExp][] = [
    ['an image given as the content sound', async () => [{ name: 'content', file: await tinyPng(8, 8, 1), filename: 'c.wav' }, style, ...fields(TINY)], /the content sound is a PNG image, not a sound/],
    ['a text file given as the style sound', async () => [content, sound('style', Buffer.from('hello, not a sound\n'), 's.mp3'), ...fields(TINY)], /the style sound is a text file, not a sound/],
    ['a sound over the duration limit', async () => [sound('content', wav(chirp(SR, 1.5))), style, ...fields(TINY)], /the content sound is longer than this server's limit of 1 s; cut it shorter/],
    ['a truncated WAV', async () => [sound('content', wav(chirp(SR, 0.5)).subarray(0, 30)), style, ...fields(TINY)], /truncated or corrupt/],
    ['no style sound', async () => [content, ...fields(TINY)], /mode=audio needs a style sound/],
    ['neither content nor texture', async () => [style, ...fields(TINY)], /needs a "content" sound file, or texture=<seconds>/],
    ['content and texture', async () => [content, style, ...fields({ ...TINY, texture: '0.5' })], /leave out the "content" file or the texture field/],
    ['a texture over the limit', async () => [style, ...fields({ ...TINY, texture: '5' })], /texture must be at most 1 s on this server/],
    ['an image field', async () => [content, style, ...fields({ ...TINY, size: '64' })], /field "size" does not apply to mode=audio/],
    ['iterations over the limit', async () => [content, style, ...fields({ ...TINY, iters: '5000' })], /iters must be (at most 2000 on this server|<= 1000000)/],
    ['a bad hop', async () => [content, style, ...fields({ ...TINY, hop: '0x40' })], /hop must be a decimal number/],
    ['a mask', async () => [content, style, { name: 'mask', file: await tinyPng(8, 8, 1), filename: 'm.png' }, ...fields(TINY)], /mode=audio takes no masks/],
  ];
  const before = (await srv.app.inject({ url: '/api/jobs?limit=1000' })).json().jobs.length;
  for (const [what, parts, re] of cases) {
    const r = await postJob(srv.app, await parts());
    assert.equal(r.statusCode, 400, `${what}: ${r.body}`);
    const msg = r.json().error as string;
    assert.match(msg, re, what);
    assert.ok(!msg.includes('\n'), `${what}: one line`);
  }
  assert.equal((await srv.app.inject({ url: '/api/jobs?limit=1000' })).json().jobs.length, before, 'no job was created');
});
