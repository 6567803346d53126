// GET /api/jobs/:id/events: a job's Server-Sent Events (its current state first, then progress,
// previews and state changes; the stream ends with the job), with keep-alive comments.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { jobOf, type ServerContext } from '../context.js';
import { isFinal, jobView, previewUrl } from '../jobs.js';

export interface EventRouteOptions {
  /** Milliseconds between keep-alive comments. */
  pingMs: number;
}

/** Registers the SSE route, and a preClose hook that ends the open streams. */
export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext, opts: EventRouteOptions): void {
  const { queue } = ctx;
  const { pingMs } = opts;
  const streams = new Set<ServerResponse>();

  app.get('/api/jobs/:id/events', (req, reply) => {
    const job = jobOf(ctx, req);
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
    const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      if (ping) clearInterval(ping);
      streams.delete(res);
      res.end();
    };
    streams.add(res);
    res.on('close', end);
    write('retry: 3000\n\n');
    // subscribe first, then send the current state: nothing can happen in between (one thread)
    unsubscribe = queue.on(job.id, (e) => {
      if (e.type === 'progress') send('progress', { iter: e.iter, iters: e.iters, loss: e.loss });
      else if (e.type === 'preview') send('preview', { iter: e.iter, url: e.url });
      else {
        send('state', e.job);
        if (isFinal(e.job.status)) end();
      }
    });
    send('state', jobView(job));
    if (isFinal(job.status)) return end();
    if (job.previewIter !== undefined) send('preview', { iter: job.previewIter, url: previewUrl(job.id, job.previewIter) });
    ping = setInterval(() => write(': ping\n\n'), pingMs);
  });

  app.addHook('preClose', async () => {
    for (const res of [...streams]) res.end();
    streams.clear();
  });
}
