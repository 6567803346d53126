// The job routes: GET /api/jobs (the list), GET and DELETE /api/jobs/:id (view; cancel, or delete when finished), and the
// job's files: GET /api/jobs/:id/result (PNG, or WAV for mode=audio), /preview.png and (mode=audio) /spectrogram.png.
import fs from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { jobOf, type ServerContext } from '../context.js';
import { isFinal, jobView, resultFileOf } from '../jobs.js';
import { HttpError } from '../params.js';

async function sendFile(reply: FastifyReply, file: string | Buffer, cache: string, filename?: string, type = 'image/png') {
  reply.type(type).header('cache-control', cache);
  if (filename) reply.header('content-disposition', `inline; filename="${filename}"`);
  return reply.send(typeof file === 'string' ? fs.createReadStream(file) : file);
}

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
    const wav = name === 'result.wav';
    return sendFile(reply, file, 'private, max-age=86400, immutable', `styleloom-${job.id.slice(0, 8)}.${wav ? 'wav' : 'png'}`, wav ? 'audio/wav' : 'image/png');
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
