// The mask uploads of POST /api/jobs (issue 17): "mask" (both modes), "style_mask" and "style_region"
// (one per style, Gatys mode), each decoded like the other images, then checked by the library's own mask
// rules (aspect ratio, black, overlaps, counts) so that a bad mask is a 400 now, not a failed job later.
import { renderMessage, StyleloomError } from '../../errors.js';
import { apiName } from '../../options/names.js';
import { checkMaskAspect, decodeMask } from '../../image/mask.js';
import type { RgbImage } from '../../image/types.js';
import { loadRunMasks } from '../../transfer/masks.js';
import type { RunInputs } from '../../transfer/inputs.js';
import type { ResolvedOptions } from '../../transfer/options.js';
import type { JobSpec } from '../jobs.js';
import fs from 'node:fs/promises';
import { HttpError } from '../params.js';
import type { MaskField } from '../mask-fields.js';
import type { UploadPart } from '../upload-reader.js';
import type { NewJob, UploadedFile } from '../queue.js';

type Size = { width: number; height: number };
type Check = (f: UploadPart, role: string, k: number, stored: string) => Promise<{ file: UploadedFile; img: Size }>;

/** The bytes of an uploaded file (held in memory, or the temp file it was streamed to). */
const bytesOf = async (f: UploadedFile): Promise<Buffer> => f.data ?? fs.readFile(f.path!);

const as400 = (e: unknown): never => {
  if (e instanceof StyleloomError) throw new HttpError(400, renderMessage(e, apiName));
  throw e;
};

/** Decodes and checks the mask uploads of a job; returns them as the files to store (undefined: none). */
export async function checkMaskUploads(spec: JobSpec, uploads: Record<MaskField, UploadPart[]>, content: Size, styles: Size[], check: Check): Promise<NewJob['masks']> {
  const n = uploads.mask.length + uploads.style_mask.length + uploads.style_region.length;
  if (n === 0) return undefined;
  if (spec.mode === 'audio' || spec.mode === 'video') throw new HttpError(400, `mode=${spec.mode} takes no masks; leave out the "mask", "style_mask" and "style_region" files`);
  if (spec.mode === 'fast' && (uploads.style_mask.length || uploads.style_region.length)) {
    throw new HttpError(400, 'mode=fast takes only a "mask" file (no "style_mask" or "style_region": the style is the model)');
  }
  const mask = uploads.mask[0] ? await check(uploads.mask[0], 'mask', 0, 'mask') : undefined;
  const styleMasks = [];
  for (let k = 0; k < uploads.style_mask.length; k++) styleMasks.push(await check(uploads.style_mask[k], `style_mask ${k + 1}`, k, `style-mask-${k + 1}`));
  const styleRegions = [];
  for (let k = 0; k < uploads.style_region.length; k++) styleRegions.push(await check(uploads.style_region[k], `style_region ${k + 1}`, k, `style-region-${k + 1}`));
  const label = (f: UploadedFile, fallback: string) => f.clientName ?? fallback;
  if (spec.mode === 'fast') {
    const m = await decodeMask(await bytesOf(mask!.file), 'mask');
    try {
      checkMaskAspect(m, content, `the {mask} image ${label(mask!.file, 'mask')}`, 'the content');
    } catch (e) {
      as400(e);
    }
    if (!m.data.some((v) => v >= 0.5 / 255)) throw new HttpError(400, `the mask image ${label(mask!.file, 'mask')} is entirely black: nothing to stylise (white marks where to stylise)`);
    return { mask: mask!.file };
  }
  // the library's rules, on the uploads' bytes (the pixels are decoded again from them; only sizes are kept)
  const held = async (f: UploadedFile) => ({ file: f.name, bytes: await bytesOf(f), sha256: '' });
  const p = spec.params;
  const o = {
    styles: styles.map((_, k) => `style ${k + 1}`),
    styleBlendWeights: p.style_blend_weights ?? styles.map(() => 1),
    maskMode: p.mask_mode,
    ...(mask ? { mask: label(mask.file, 'mask') } : {}),
    ...(styleMasks.length ? { styleMasks: styleMasks.map((x, k) => label(x.file, `style mask ${k + 1}`)) } : {}),
    ...(styleRegions.length ? { styleRegions: styleRegions.map((x, k) => label(x.file, `style region ${k + 1}`)) } : {}),
  } as unknown as ResolvedOptions;
  const inputs = {
    mask: mask ? await held(mask.file) : null,
    styleMasks: await Promise.all(styleMasks.map((x) => held(x.file))),
    styleRegions: await Promise.all(styleRegions.map((x) => held(x.file))),
  } as unknown as RunInputs;
  await loadRunMasks(o, inputs, content as RgbImage, styles as RgbImage[]).catch(as400);
  return {
    ...(mask ? { mask: mask.file } : {}),
    ...(styleMasks.length ? { styleMasks: styleMasks.map((x) => x.file) } : {}),
    ...(styleRegions.length ? { styleRegions: styleRegions.map((x) => x.file) } : {}),
  };
}
