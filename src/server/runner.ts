// The default job runner of the server: Gatys jobs through stylize() (progress per iteration, a
// preview PNG every few iterations, cancellation through the AbortSignal), fast jobs through
// fastStylize() with each network loaded once and its sessions reused (results are PNGs with provenance),
// sound jobs through run-audio.ts, video jobs through run-video.ts.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { StyleloomError } from '../errors.js';
import { fastStylize, loadFastModel, type LoadedFastModel } from '../fast/stylize-fast.js';
import { encodeImage } from '../image/io.js';
import { PROVENANCE_KEYS, provenanceFor } from '../transfer/provenance.js';
import { stylize } from '../transfer/stylize.js';
import type { DeviceKind } from '../runtime/device.js';
import { VERSION } from '../version.js';
import type { FastParams, GatysParams } from './jobs.js';
import type { FastModelInfo } from './models.js';
import { stylizeOptionsFor } from './params.js';
import { runAudioJob } from './run-audio.js';
import { runVideoJob } from './run-video.js';
import type { JobRunner, RunContext, RunOutcome } from './queue.js';

export interface RunnerConfig {
  /** VGG-19 weights file (resolved). */
  weights?: string;
  /** onnxruntime threads per job. */
  threads?: number;
  device?: DeviceKind;
  /** Fast-style networks by name. */
  fastModels: () => FastModelInfo[];
  /** Preview every N iterations; 0 = automatic (about 25 previews per job). */
  previewEvery?: number;
}

export interface DefaultRunner {
  run: JobRunner;
  /** Release the cached fast-style sessions. */
  close(): Promise<void>;
}

/** Provenance names the files as the client named them, not as the server stored them (content.png). */
function withClientNames(meta: Record<string, string>, ctx: RunContext): Record<string, string> {
  const { content, styles, contentName, styleNames } = ctx.job.inputs;
  const out = { ...meta };
  try {
    const params = JSON.parse(out[PROVENANCE_KEYS.parameters]) as Record<string, unknown>;
    if (contentName) params.content = contentName;
    if (styleNames?.length === styles.length) params.styles = styleNames;
    out[PROVENANCE_KEYS.parameters] = JSON.stringify(params);
  } catch {
    // keep the record as it is
  }
  const d = out[PROVENANCE_KEYS.description];
  if (d) {
    out[PROVENANCE_KEYS.description] = d
      .replace(`content image ${path.basename(content)} `, `content image ${contentName ?? path.basename(content)} `)
      .replace(`in the style of ${styles.map((s) => path.basename(s)).join(', ')};`, `in the style of ${(styleNames ?? styles).join(', ')};`);
  }
  return out;
}

export function createDefaultRunner(cfg: RunnerConfig): DefaultRunner {
  const models = new Map<string, Promise<LoadedFastModel>>();

  const fastModel = (name: string): Promise<LoadedFastModel> => {
    let m = models.get(name);
    if (!m) {
      const info = cfg.fastModels().find((x) => x.name === name);
      if (!info) return Promise.reject(new StyleloomError('E_WEIGHTS', `fast model ${name} is no longer available on this server`));
      m = loadFastModel(info.path);
      models.set(name, m);
      m.catch(() => models.delete(name)); // a failed load is not cached
    }
    return m;
  };

  async function runGatys(ctx: RunContext, p: GatysParams): Promise<RunOutcome> {
    const { inputs } = ctx.job;
    const options = stylizeOptionsFor(p, ctx.file(inputs.content), inputs.styles.map((s) => ctx.file(s)));
    if (inputs.mask) options.mask = ctx.file(inputs.mask);
    if (inputs.styleMasks) options.styleMasks = inputs.styleMasks.map((s) => ctx.file(s));
    if (inputs.styleRegions) options.styleRegions = inputs.styleRegions.map((s) => ctx.file(s));
    options.weights = cfg.weights;
    options.threads = cfg.threads;
    options.device = cfg.device;
    const total = p.iters * p.scales;
    options.saveEvery = cfg.previewEvery && cfg.previewEvery > 0 ? cfg.previewEvery : Math.max(1, Math.ceil(total / 25));
    const result = await stylize(options, {
      signal: ctx.signal,
      onProgress: (e) => ctx.progress({ iter: e.iter, iters: e.iters, loss: e.loss }),
      onSnapshot: async (img, iter) => ctx.preview(await encodeImage(img, 'png'), iter),
    });
    const meta = withClientNames(await provenanceFor(options, result), ctx);
    const png = await encodeImage(result.image, 'png', { metadata: meta });
    return { result: png, width: result.image.width, height: result.image.height, loss: result.loss, lossHistory: result.lossHistory };
  }

  async function runFast(ctx: RunContext, p: FastParams): Promise<RunOutcome> {
    const model = await fastModel(p.model);
    const contentPath = ctx.file(ctx.job.inputs.content);
    const mask = ctx.job.inputs.mask ? ctx.file(ctx.job.inputs.mask) : undefined;
    const img = await fastStylize(contentPath, model, { size: p.size, threads: cfg.threads, device: cfg.device, originalColors: p.original_colors, mask, signal: ctx.signal });
    if (ctx.signal.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
    ctx.progress({ iter: 1, iters: 1, loss: null });
    const content = ctx.job.inputs.contentName ?? 'content';
    const params = { mode: 'fast', model: p.model, content, size: p.size, originalColors: p.original_colors, width: img.width, height: img.height };
    const meta = {
      [PROVENANCE_KEYS.software]: `styleloom ${VERSION}`,
      [PROVENANCE_KEYS.description]:
        `Generated by fast neural style transfer (feed-forward network, Johnson et al. 2016; styleloom ${VERSION}) from the content image ${content} ` +
        `with the style network ${p.model}; the style belongs to its artist and source, the network to its authors.`,
      [PROVENANCE_KEYS.parameters]: JSON.stringify(params),
      [PROVENANCE_KEYS.contentSha256]: createHash('sha256').update(await readFile(contentPath)).digest('hex'),
    };
    const png = await encodeImage(img, 'png', { metadata: meta });
    return { result: png, width: img.width, height: img.height, loss: null, lossHistory: [] };
  }

  return {
    run: (ctx) => {
      const { job } = ctx; // checking job.mode narrows job.params
      switch (job.mode) {
        case 'fast':
          return runFast(ctx, job.params);
        case 'audio':
          return runAudioJob(ctx, job.params, cfg);
        case 'video':
          return runVideoJob(ctx, job.params, cfg);
        default:
          return runGatys(ctx, job.params);
      }
    },
    async close() {
      const all = [...models.values()];
      models.clear();
      await Promise.all(all.map((m) => m.then((x) => x.release()).catch(() => undefined)));
    },
  };
}
