// POST /api/jobs: a multipart upload (a "content" image, sound or clip, "style" image(s) or sound(s), masks, the
// parameters as text fields) read within the limits, parameters parsed, every image decoded once as a check, then enqueued.
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import sharp from 'sharp';
import { readSound } from '../../audio/sound-io.js';
import { StyleloomError } from '../../errors.js';
import { readImage } from '../../image/io.js';
import { checkRunImages } from '../../transfer/image-checks.js';
import { scaleSizes } from '../../transfer/stylize.js';
import type { ServerContext, ServerLimits } from '../context.js';
import { oneLine, type JobSpec } from '../jobs.js';
import { apiName } from '../../options/names.js';
import { VIDEO_DEFAULT_SIZE } from '../../video/clip.js';
import { apiMessage, HttpError, parseAudioParams, parseFastParams, parseGatysParams, parseMode, parseVideoParams, type ParamContext } from '../params.js';
import { QueueFullError, type UploadedFile } from '../queue.js';
import { readUpload, type Upload, type UploadPart } from '../upload-reader.js';
import { checkMaskUploads } from './submit-masks.js';
import { checkVideoUpload } from './submit-video.js';

/** Decoded formats accepted in uploads (sharp can read more, e.g. SVG and PDF, which a server should not). */
const FORMATS: Record<string, string> = { png: 'png', jpeg: 'jpg', webp: 'webp', gif: 'gif', tiff: 'tif', heif: 'avif' };

/** The limits of @fastify/multipart for these uploads (the plugin is registered by createServer). */
export function multipartLimits(limits: ServerLimits) {
  const { maxBytes, maxStyles } = limits;
  // content, styles, and masks: one, and per style a style mask and a style region
  return { fileSize: maxBytes, files: 3 * maxStyles + 2, fields: 40, fieldSize: 64 * 1024, parts: 3 * maxStyles + 42, headerPairs: 200 };
}

/** At most `n` callers at a time in `run` (the others wait in order). */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function clientName(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  const base = path.basename(filename.replace(/\\/g, '/'));
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
  return clean || undefined;
}

/** What the parameter parsers check against: the limits and the models of this server. */
function paramContext(ctx: ServerContext): ParamContext {
  const { vgg, vggError } = ctx.models;
  return {
    limits: { maxSize: ctx.limits.maxSize, maxIters: ctx.limits.maxIters, maxAudioSeconds: ctx.limits.maxAudioSeconds },
    vgg: vgg ? { path: vgg.path, layers: vgg.layers } : null,
    vggError,
    fastModels: ctx.models.fast().map((m) => m.name),
  };
}

/** Registers POST /api/jobs. */
export function registerSubmitRoute(app: FastifyInstance, ctx: ServerContext): void {
  const { queue } = ctx;
  const { maxBytes, maxUploadMb, maxPixels, maxSize } = ctx.limits;
  const decodeSlot = limiter(2);
  const { maxUploads } = ctx.limits;
  let uploading = 0;

  app.post('/api/jobs', async (req, reply) => {
    if (!req.isMultipart()) throw new HttpError(400, 'send multipart/form-data: a "content" image file, "style" image file(s) and the parameters as text fields');
    const stats = await queue.stats();
    if (stats.queued >= stats.maxQueue) throw new QueueFullError(stats.maxQueue);
    if (uploading >= maxUploads) {
      reply.header('retry-after', '5');
      throw new HttpError(503, `${maxUploads} uploads are in progress, the most this server takes at once; try again in a few seconds`);
    }
    await checkQuota(Number(req.headers['content-length']) || 0);
    uploading++;
    let upload: Upload | undefined;
    try {
      upload = await readUpload(req, reply, ctx.uploadDir, { maxBytes, maxUploadMb, bodyTimeoutMs: ctx.limits.bodyTimeoutMs, log: ctx.log });
      await checkQuota(upload.bytes);
      return await submit(reply, upload);
    } finally {
      uploading--;
      await upload?.cleanup();
    }
  });

  /** 507 when `bytes` more would take the stored jobs past the disk quota. */
  async function checkQuota(bytes: number): Promise<void> {
    if (ctx.quotaBytes === undefined) return;
    const used = await queue.usage();
    if (used + bytes > ctx.quotaBytes) {
      const mb = (b: number) => (b / (1024 * 1024)).toFixed(1);
      throw new HttpError(507, `this server's job storage is full (${mb(used)} of ${mb(ctx.quotaBytes)} MB used); delete finished jobs (DELETE /api/jobs/:id) or try again later`);
    }
  }

  function created(reply: FastifyReply, id: string, status: string) {
    void reply.code(201).header('location', `/api/jobs/${id}`);
    return { id, status, url: `/api/jobs/${id}`, eventsUrl: `/api/jobs/${id}/events` };
  }

  /** An uploaded image checked by decoding it (a 400 when it is not one this server takes, or too large). */
  const check = async (f: UploadPart, role: string, k: number, stored = `${k === 0 ? 'content' : `style-${k}`}`) => {
    // the header only, whatever the size it claims (sharp's own pixel limit would make a bomb "not an image")
    const meta = await sharp(f.path, { limitInputPixels: false }).metadata().catch(() => undefined);
    const fmt = meta?.format;
    if (fmt === undefined || FORMATS[fmt] === undefined) {
      throw new HttpError(400, `${role}: not an image this server accepts (PNG, JPEG, WebP, GIF, TIFF, AVIF); convert it first`);
    }
    const [w, h] = [meta!.width ?? 0, meta!.height ?? 0];
    if (w * h > maxPixels) throw new HttpError(400, `${role}: ${w}x${h} is too large for this server, more than the limit of ${maxPixels} pixels; scale it down first`);
    // decode the whole image (the only real check), a few at a time: a burst of uploads must not
    // hold a decoded copy of every one of them at once; only the size is kept
    const { width, height } = await decodeSlot(() => readImage(f.path, { name: role, maxPixels }));
    const img = { width, height };
    const file: UploadedFile = { name: `${stored}.${FORMATS[fmt]}`, path: f.path, clientName: clientName(f.filename) };
    return { file, img };
  };
  /** mode=audio: sound uploads (any format ffmpeg reads), each decoded once as the check, within the duration limit. */
  async function submitAudio(reply: FastifyReply, upload: Upload) {
    const { fields, content, styles, masks } = upload;
    const hasContent = content !== undefined && content.bytes > 0;
    const params = parseAudioParams(fields, styles.length, hasContent, paramContext(ctx));
    if (Object.values(masks).some((m) => m.length)) throw new HttpError(400, 'mode=audio takes no masks; leave out the "mask", "style_mask" and "style_region" files');
    const max = ctx.limits.maxAudioSeconds;
    const check = async (f: UploadPart, role: string, stored: string): Promise<UploadedFile> => {
      try {
        await decodeSlot(() => readSound(f.path, { sampleRate: params.sr, maxSeconds: max, what: role }));
      } catch (e) {
        if (!(e instanceof StyleloomError)) throw e;
        // the library's limit is this server's here: say so, not which CLI option raises it
        if (e.template?.includes('{maxDuration}')) throw new HttpError(400, `${role} is longer than this server's limit of ${max} s; cut it shorter`);
        throw new HttpError(400, apiMessage(e));
      }
      return { name: `${stored}.sound`, path: f.path, clientName: clientName(f.filename) };
    };
    const c = hasContent ? await check(content, 'the content sound', 'content') : undefined;
    const s = [];
    for (let k = 0; k < styles.length; k++) s.push(await check(styles[k], styles.length > 1 ? `style sound ${k + 1}` : 'the style sound', `style-${k + 1}`));
    // a texture job has no content upload: an empty placeholder keeps the record's shape
    const job = await queue.enqueue({ mode: 'audio', params, content: c ?? { name: 'no-content', data: Buffer.alloc(0) }, styles: s });
    return created(reply, job.id, job.status);
  }

  /** mode=video: the clip probed and counted within the limits, the style images (engine gatys) checked as images. */
  async function submitVideo(reply: FastifyReply, upload: Upload) {
    const { fields, content, styles, masks } = upload;
    if (fields[apiName('mode')]?.trim() === 'fast') await ctx.models.refresh();
    const params = parseVideoParams(fields, styles.length, paramContext(ctx));
    if (Object.values(masks).some((m) => m.length)) throw new HttpError(400, 'mode=video takes no masks; leave out the "mask", "style_mask" and "style_region" files');
    const clip = await decodeSlot(() => checkVideoUpload(content, params, ctx.limits));
    if (params.size === undefined && Math.min(VIDEO_DEFAULT_SIZE, Math.max(clip.info.width, clip.info.height)) > maxSize) params.size = maxSize;
    const s = [];
    for (let k = 0; k < styles.length; k++) s.push((await check(styles[k], styles.length > 1 ? `style ${k + 1}` : 'style', k + 1)).file);
    const file: UploadedFile = { name: 'content.video', path: content!.path, clientName: clientName(content!.filename) };
    const { frames, plan } = clip;
    const job = await queue.enqueue({ mode: 'video', params, content: file, styles: s, clip: { frames, fps: plan.fps, duration: frames / plan.fps } });
    return created(reply, job.id, job.status);
  }

  async function submit(reply: FastifyReply, upload: Upload) {
    const { fields, content, styles, masks } = upload;
    const mode = parseMode(fields);
    delete fields.mode;
    if (mode === 'audio') return submitAudio(reply, upload);
    if (mode === 'video') return submitVideo(reply, upload);
    if (!content || content.bytes === 0) throw new HttpError(400, 'a content image is required: a multipart file field named "content"');
    if (mode === 'fast') await ctx.models.refresh();
    const pc = paramContext(ctx);
    const spec: JobSpec =
      mode === 'fast' ? { mode, params: parseFastParams(fields, styles.length, pc) } : { mode, params: parseGatysParams(fields, styles.length, pc) };
    const c = await check(content, 'content', 0);
    const s = [];
    for (let k = 0; k < styles.length; k++) s.push(await check(styles[k], styles.length > 1 ? `style ${k + 1}` : 'style', k + 1));
    if (spec.mode === 'gatys') {
      // every image must be large enough for the deepest layer at every scale: a 400 now, not a failed job later
      const p = spec.params;
      const vgg = ctx.models.vgg!;
      checkRunImages(
        { sizes: scaleSizes(p.size, p.scales, p.min_size), styleScale: p.style_scale, content: { what: 'content', ...c.img }, styles: s.map((x, k) => ({ what: `style ${k + 1}`, ...x.img })) },
        [...(p.content_layers ?? vgg.defaultContentLayers), ...(p.style_layers ?? vgg.defaultStyleLayers)],
      );
    }
    const m = await checkMaskUploads(spec, masks, c.img, s.map((x) => x.img), check);
    if (spec.mode === 'fast' && !('size' in fields)) {
      // no size given: the content's own, within the server's limit
      const long = Math.max(c.img.width, c.img.height);
      spec.params.size = long > maxSize ? maxSize : undefined;
    }
    const job = await queue.enqueue({ ...spec, content: c.file, styles: s.map((x) => x.file), masks: m });
    return created(reply, job.id, job.status);
  }
}
