// The job routes: GET /api/jobs (the list), GET and DELETE /api/jobs/:id (view; cancel, or delete when finished), and the
// job's files: GET /api/jobs/:id/result (PNG, WAV for mode=audio, MP4 for mode=video; byte ranges answered),
// /preview.png and (mode=audio) /spectrogram.png.
import fs from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { jobOf, type ServerContext } from '../context.js';
import { isFinal, jobView, resultFileOf, type ResultFile } from '../jobs.js';
import { HttpError } from '../params.js';
import { parseRange } from './weights.js';

async function sendFile(reply: FastifyReply, file: string | Buffer, cache: string, filename?: string, type = 'image/png', range?: string) {
  reply.type(type).header('cache-control', cache);
  if (filename) reply.header('content-disposition', `inline; filename="${filename}"`);
  if (range === undefined) return reply.send(typeof file === 'string' ? fs.createReadStream(file) : file);
  // results answer byte ranges (as /api/weights does), so that a <video> element can seek
  const size = typeof file === 'string' ? (await fs.promises.stat(file)).size : file.length;
  reply.header('accept-ranges', 'bytes');
  const r = parseRange(range, size);
  if (r === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    throw new HttpError(416, `range ${JSON.stringify(range.slice(0, 60))} is outside the file's ${size} bytes`);
  }
  if (!r) return reply.header('content-length', size).send(typeof file === 'string' ? fs.createReadStream(file) : file);
  const { start, end } = r;
  reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`).header('content-length', end - start + 1);
  return reply.send(typeof file === 'string' ? fs.createReadStream(file, { start, end }) : file.subarray(start, end + 1));
}

const RESULT_TYPES: Record<ResultFile, [string, string]> = { 'result.png': ['png', 'image/png'], 'result.wav': ['wav', 'audio/wav'], 'result.mp4': ['mp4', 'video/mp4'] };

/** Registers the list, view, cancel, result and preview routes of jobs. */
export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { queue } = ctx;

  app.get('/api/jobs', async (req) => {
    const raw = (req.query as { limit?: string }).limit;
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, `limit must be a whole number from 1 to 1000, got ${JSON.stringify(raw)}`);
    return { jobs: (await queue.list(limit)).map((j) => jobView(j, { history: false })), queue: await queue.stats() };
  });

  app.get('/api/jobs/:id', async (req) => jobView((await jobOf(ctx, req))));

  // queued or running: cancel (the job stays, cancelled); finished: delete the job and its files
  app.delete('/api/jobs/:id', async (req) => {
    const job = await jobOf(ctx, req);
    if (isFinal(job.status)) {
      if (!(await queue.remove(job.id))) throw new HttpError(404, 'no such job');
      return { id: job.id, deleted: true };
    }
    const after = await queue.cancel(job.id);
    return jobView(after ?? job);
  });

  app.get('/api/jobs/:id/result', async (req, reply) => {
    const job = await jobOf(ctx, req);
    if (job.status !== 'done') throw new HttpError(409, `job is ${job.status}; the result is there when the status is done`);
    const name = resultFileOf(job.mode);
    const file = await queue.file(job.id, name);
    if (!file) throw new HttpError(404, 'the result file of this job is missing from the data directory');
    const [ext, type] = RESULT_TYPES[name];
    return sendFile(reply, file, 'private, max-age=86400, immutable', `styleloom-${job.id.slice(0, 8)}.${ext}`, type, req.headers.range ?? '');
  });

  app.get('/api/jobs/:id/spectrogram.png', async (req, reply) => {
    const job = await jobOf(ctx, req);
    if (job.mode !== 'audio') throw new HttpError(404, 'only mode=audio jobs have a spectrogram');
    if (job.status !== 'done') throw new HttpError(409, `job is ${job.status}; the spectrogram is there when the status is done`);
    const file = await queue.file(job.id, 'spectrogram.png');
    if (!file) throw new HttpError(404, 'the spectrogram of this job is missing from the data directory');
    return sendFile(reply, file, 'private, max-age=86400, immutable');
  });

  app.get('/api/jobs/:id/preview.png', async (req, reply) => {
    const job = await jobOf(ctx, req);
    const file = job.previewIter === undefined ? undefined : await queue.file(job.id, 'preview.png');
    if (!file) throw new HttpError(404, 'no preview yet');
    return sendFile(reply, file, 'no-store');
  });
}
