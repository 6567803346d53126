// The audio mode's signal processing against real values: the peer's generator (golden numbers computed
// by its own normals()), torch.stft's values on a chirp, STFT -> iSTFT round trip, Griffin-Lim on a known
// magnitude, resampling, mixdown and the WAV codec (every sample format, provenance chunk, bad files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerNormals } from '../src/audio/normals.js';
import { filterBanks, filterScale } from '../src/audio/filters.js';
import { istft, stft, framesFor } from '../src/audio/stft.js';
import { griffinLim } from '../src/audio/griffin-lim.js';
import { mixdown, resample } from '../src/audio/resample.js';
import { decodeWav, encodeWav, readWavInfo } from '../src/audio/wav.js';
import { chirp, energyNear, tones } from './helpers/sounds.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test("the generator reproduces the peer's normals (golden values from pytorch_audio_style.normals)", () => {
  // /usr/bin/python3: normals(0, 8), normals(12345, 3), normals(0, 100001)[100000]
  const seed0 = [-1.88390833335244, 0.22760793546360525, -0.22143788059715477, 0.08341854419566393, 0.7170826494218735, 0.06961828150383063, -1.1459220136058275, -1.558991217105635];
  const z = new PeerNormals(0);
  for (const [k, want] of seed0.entries()) close(z.next(), want, 1e-14, `seed 0, z_${k}`);
  const z2 = new PeerNormals(12345);
  for (const want of [0.14969265397627943, 0.2259230337540872, -0.618345661793715]) close(z2.next(), want, 1e-14, 'seed 12345');
  const far = new PeerNormals(0).fill(new Float64Array(100001));
  close(far[100000], -0.09300250429299613, 1e-13, 'seed 0, z_100000');
});

test("the filter bank equals the peer's W (bins 129, 4 filters, width 3, seed 7), float32 for float32", () => {
  const { banks } = filterBanks(7, 129, 4, [3]);
  const w = banks[0].weight;
  assert.equal(w.length, 4 * 129 * 3);
  close(filterScale(129, 4, 3), 0.10012523486435179, 1e-15, 'scale');
  // W[0,0,0], W[1,2,1], W[3,128,2] from the peer's (z * scale).astype(float32)
  assert.equal(w[0], Math.fround(0.09897122532129288));
  assert.equal(w[(1 * 129 + 2) * 3 + 1], Math.fround(-0.07300280034542084));
  assert.equal(w[(3 * 129 + 128) * 3 + 2], Math.fround(-0.049341004341840744));
  // a second width continues the stream: its first filter value is z_(4*129*3)
  const two = filterBanks(7, 129, 4, [3, 5]).banks[1].weight;
  const z = new PeerNormals(7).fill(new Float64Array(4 * 129 * 3 + 1));
  assert.equal(two[0], Math.fround(z[4 * 129 * 3] * filterScale(129, 4, 5)));
});

test('STFT equals torch.stft (periodic Hann 256, hop 64, centred, reflect) on a chirp', () => {
  const x = Float64Array.from(chirp(8000, 0.5), (v) => Math.round(v * 32767) / 32768); // as the 16-bit WAV the peer reads
  const s = stft(x, 256, 64);
  assert.equal(s.bins, 129);
  assert.equal(s.frames, 63);
  assert.equal(framesFor(4000, 64), 63);
  const golden: [number, number, number, number][] = [
    [0, 0, 6.314865122854321, 0],
    [10, 3, -0.6417897444610159, 0.278352102505269],
    [40, 20, -0.0003401318238442641, -6.781115922902675e-5],
    [128, 62, -0.3321653484622554, 0],
    [77, 31, 5.6097511395872875e-5, 4.135724547316773e-5],
  ];
  for (const [k, t, re, im] of golden) {
    assert.ok(Math.abs(s.re[k * 63 + t] - re) < 1e-9 && Math.abs(s.im[k * 63 + t] - im) < 1e-9, `X[${k},${t}] = ${s.re[k * 63 + t]} + ${s.im[k * 63 + t]}i, torch ${re} + ${im}i`);
  }
});

test('inverse STFT of the STFT gives the signal back (odd frame count, length kept)', () => {
  const x = Float64Array.from(tones(8000, 0.3, [440, 1234]));
  for (const [n, hop] of [[256, 64], [128, 32], [64, 48]]) {
    const y = istft(stft(x, n, hop), n, hop, x.length);
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(y[i] - x[i]));
    assert.ok(err < 1e-12, `n_fft ${n} hop ${hop}: max error ${err}`);
  }
});

test('Griffin-Lim converges on a known magnitude exactly as the peer\'s (torch) does', () => {
  const x = chirp(8000, 0.4, 300, 2000);
  const s = stft(x, 256, 64);
  const mag = s.re.map((r, k) => Math.hypot(r, s.im[k]));
  const sc = (iters: number) => {
    const y = griffinLim(mag, s.bins, s.frames, { nFft: 256, hop: 64, iters, length: x.length });
    const r = stft(y, 256, 64);
    let num = 0;
    let den = 0;
    for (let k = 0; k < mag.length; k++) {
      num += (Math.hypot(r.re[k], r.im[k]) - mag[k]) ** 2;
      den += mag[k] ** 2;
    }
    return Math.sqrt(num / den);
  };
  // the peer's griffin_lim (torch) on the same magnitude: 0.2781034431902086 after 2 iterations, 0.10311802599557854 after 60
  close(sc(2), 0.2781034431902086, 1e-9, 'spectral convergence after 2 iterations');
  const late = sc(60);
  close(late, 0.10311802599557854, 1e-9, 'after 60');
  assert.ok(sc(0) > 0.9 && late < 0.11, 'converges from the zero phase');
});

test('resampling keeps a tone at its frequency and its amplitude; mixdown averages the channels', () => {
  const x = tones(16000, 0.25, [1000]);
  const y = resample(x, 16000, 8000);
  assert.equal(y.length, 2000);
  assert.ok(energyNear(y, 8000, [1000], 100) > 0.99, 'the 1 kHz tone is still at 1 kHz');
  let peak = 0;
  for (let i = 200; i < 1800; i++) peak = Math.max(peak, Math.abs(y[i]));
  close(peak, 0.3, 0.01, 'amplitude');
  // a 3 kHz tone is above the new Nyquist frequency (2 kHz): removed, not aliased to 1 kHz
  const hi = resample(tones(16000, 0.25, [3000]), 16000, 4000);
  let e = 0;
  for (let i = 100; i < hi.length - 100; i++) e = Math.max(e, Math.abs(hi[i]));
  assert.ok(e < 0.01, `3 kHz at 4 kHz sampling leaks ${e}`);
  assert.deepEqual([...mixdown([Float32Array.of(1, 0.5), Float32Array.of(0, -0.5)])], [0.5, 0]);
});

test('WAV: 16-bit and float round trips, provenance chunk, 8/24-bit and stereo decoding', () => {
  const x = Float32Array.of(0, 0.5, -0.5, 0.25, -1, 1);
  const s16 = decodeWav(encodeWav(x, 8000, 's16'), 'a.wav');
  assert.equal(s16.sampleRate, 8000);
  s16.channels[0].forEach((v, i) => assert.ok(Math.abs(v - x[i]) <= 1 / 32767, `s16 sample ${i}: ${v}`));
  const f32 = decodeWav(encodeWav(x, 22050, 'f32', { ISFT: 'styleloom test', ICMT: '{"a":1}' }), 'b.wav');
  assert.deepEqual([...f32.channels[0]], [...x]);
  assert.deepEqual(readWavInfo(encodeWav(x, 22050, 'f32', { ISFT: 'styleloom test', ICMT: '{"a":1}' })), { ISFT: 'styleloom test', ICMT: '{"a":1}' });
  // a stereo 24-bit file and a mono 8-bit one, by hand
  const hdr = (channels: number, bits: number, data: number[]) => {
    const b = Buffer.alloc(44 + data.length);
    b.write('RIFF', 0);
    b.writeUInt32LE(36 + data.length, 4);
    b.write('WAVEfmt ', 8);
    b.writeUInt32LE(16, 16);
    b.writeUInt16LE(1, 20);
    b.writeUInt16LE(channels, 22);
    b.writeUInt32LE(8000, 24);
    b.writeUInt32LE((8000 * channels * bits) / 8, 28);
    b.writeUInt16LE((channels * bits) / 8, 32);
    b.writeUInt16LE(bits, 34);
    b.write('data', 36);
    b.writeUInt32LE(data.length, 40);
    Buffer.from(data).copy(b, 44);
    return b;
  };
  const st = decodeWav(hdr(2, 24, [0, 0, 0x40, 0, 0, 0xc0]), 'c.wav');
  assert.deepEqual([st.channels[0][0], st.channels[1][0]], [0.5, -0.5]);
  assert.deepEqual([...decodeWav(hdr(1, 8, [128, 192, 64]), 'd.wav').channels[0]], [0, 0.5, -0.5]);
  assert.throws(() => decodeWav(hdr(1, 16, [1, 2, 3, 4]).subarray(0, 46), 'cut.wav'), /cut\.wav: the WAV file is truncated or corrupt \(its data chunk announces 4 bytes but only 2 follow\)/);
  assert.throws(() => decodeWav(hdr(1, 16, []), 'empty.wav'), /empty\.wav: the sound has no samples \(zero length\)/);
});
