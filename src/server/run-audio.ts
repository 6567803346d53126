// How the server runs a mode=audio job: stylizeAudio() on the stored sounds, progress over L-BFGS and then
// Griffin-Lim, the spectrogram so far as the preview, and a WAV (provenance in its INFO chunk) plus the
// content/style/result spectrogram sheet as the result.
import { renderSpectrograms, resultPanels } from '../audio/spectrogram-png.js';
import { audioProvenance } from '../audio/provenance.js';
import { encodeSoundWav } from '../audio/sound-io.js';
import { stylizeAudio } from '../audio/stylize-audio.js';
import { encodeImage } from '../image/io.js';
import type { DeviceKind } from '../runtime/device.js';
import type { AudioParams } from './jobs.js';
import { audioOptionsFor } from './params.js';
import type { RunContext, RunOutcome } from './queue.js';

/** About this many previews per job. */
const PREVIEWS = 25;

export async function runAudioJob(ctx: RunContext, p: AudioParams, cfg: { threads?: number; device?: DeviceKind; previewEvery?: number }): Promise<RunOutcome> {
  const { inputs } = ctx.job;
  const content = p.texture === undefined ? ctx.file(inputs.content) : undefined;
  const options = audioOptionsFor(p, content, inputs.styles.map((s) => ctx.file(s)));
  options.threads = cfg.threads;
  options.device = cfg.device;
  const steps = p.iters + p.gl_iters;
  const result = await stylizeAudio(options, {
    signal: ctx.signal,
    onProgress: (e) => {
      const iter = e.phase === 'optimise' ? e.iter : p.iters + e.iter;
      ctx.progress({ iter, iters: steps, loss: e.loss ? { ...e.loss, tv: 0 } : null });
    },
    snapshotEvery: cfg.previewEvery && cfg.previewEvery > 0 ? cfg.previewEvery : Math.max(1, Math.ceil(p.iters / PREVIEWS)),
    onSnapshot: async (s, iter) => ctx.preview(await encodeImage(await renderSpectrograms([{ label: `iteration ${iter} of ${p.iters}`, spectrogram: s }], { height: 192 }), 'png'), iter),
  });
  // provenance names the files as the client did
  const named = { ...options, content: inputs.contentName ?? (content ? 'content' : undefined), styles: inputs.styleNames ?? inputs.styles };
  const wav = encodeSoundWav(result.sound, { sampleFormat: p.sample_format, metadata: audioProvenance(named, result) });
  const sheet = await renderSpectrograms(resultPanels(result.spectrograms, { content: named.content, style: named.styles[0], result: 'result.wav' }));
  return {
    result: Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength),
    extra: [{ name: 'spectrogram.png', data: await encodeImage(sheet, 'png') }],
    duration: result.duration,
    loss: { ...result.loss, tv: 0 },
    lossHistory: result.lossHistory,
  };
}
