// GET /api/jobs/:id/events: a job's Server-Sent Events (its current state first, then progress,
// previews, a video job's frames and state changes; the stream ends with the job), with keep-alive comments. Each event
// carries its id; a client that reconnects with Last-Event-ID gets what it missed, then the rest.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { jobOf, type ServerContext } from '../context.js';
import { isFinal, jobView, previewUrl } from '../jobs.js';
import { compareSeq, type JobEvent } from '../queue.js';

export interface EventRouteOptions {
  /** Milliseconds between keep-alive comments. */
  pingMs: number;
}

const SEQ_RE = /^\d{1,20}(-\d{1,20})?$/;

/** Registers the SSE route, and a preClose hook that ends the open streams. */
export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext, opts: EventRouteOptions): void {
  const { queue } = ctx;
  const { pingMs } = opts;
  const streams = new Set<ServerResponse>();

  app.get('/api/jobs/:id/events', async (req, reply) => {
    const job = await jobOf(ctx, req);
    const lastHeader = req.headers['last-event-id'];
    const last = typeof lastHeader === 'string' && SEQ_RE.test(lastHeader.trim()) ? lastHeader.trim() : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // one stream per connection: when the stream ends, so does the connection (nothing idles on close)
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    let closed = false;
    let unsubscribe = () => undefined as void;
    let ping: NodeJS.Timeout | undefined;
    const write = (s: string) => {
      if (!closed && !res.destroyed) res.write(s);
    };
    const send = (event: string, data: unknown, seq?: string) => write(`${seq ? `id: ${seq}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      if (ping) clearInterval(ping);
      streams.delete(res);
      res.end();
    };
    let sent = last; // the seq of the latest event sent: nothing at or before it goes out again
    const deliver = (e: JobEvent) => {
      if (e.seq !== undefined) {
        if (sent !== undefined && compareSeq(e.seq, sent) <= 0) return;
        sent = e.seq;
      }
      if (e.type === 'progress') send('progress', { iter: e.iter, iters: e.iters, loss: e.loss }, e.seq);
      else if (e.type === 'preview') send('preview', { iter: e.iter, url: e.url }, e.seq);
      else if (e.type === 'video') send('video', { frame: e.frame, frames: e.frames, iter: e.iter, iters: e.iters, sPerFrame: e.sPerFrame, etaS: e.etaS }, e.seq);
      else {
        send('state', e.job, e.seq);
        if (isFinal(e.job.status)) end();
      }
    };
    streams.add(res);
    res.on('close', end);
    write('retry: 3000\n\n');
    // subscribe first (events that arrive meanwhile wait), then the current state or what was missed
    const early: JobEvent[] = [];
    let ready = false;
    unsubscribe = queue.on(job.id, (e) => (ready ? deliver(e) : early.push(e)));
    if (last !== undefined) {
      for (const e of await queue.eventsAfter(job.id, last)) deliver(e);
      const now = await queue.get(job.id);
      if (now && isFinal(now.status) && !closed) send('state', jobView(now));
    } else {
      // read again after subscribing: a change in between is then in this state or among the early events
      const cur = (await queue.get(job.id)) ?? job;
      send('state', jobView(cur));
      if (isFinal(cur.status)) return end();
      if (cur.previewIter !== undefined) send('preview', { iter: cur.previewIter, url: previewUrl(cur.id, cur.previewIter) });
    }
    if (isFinal(job.status)) return end();
    ready = true;
    for (const e of early) deliver(e);
    if (!closed) ping = setInterval(() => write(': ping\n\n'), pingMs);
  });

  app.addHook('preClose', async () => {
    for (const res of [...streams]) res.end();
    streams.clear();
  });
}
