// Test helper for the HTTP service: tiny generated images, multipart bodies for app.inject, polling
// a job to a final status (bounded), and reading a Server-Sent Events stream (bounded).
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { randn } from './rand.js';

/** A small PNG with some structure (a gradient plus seeded noise), so that the losses are not 0. */
export async function tinyPng(width: number, height: number, seed: number): Promise<Buffer> {
  const noise = randn(width * height * 3, seed, 40);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const k = 3 * (y * width + x) + c;
        const base = c === 0 ? (255 * x) / width : c === 1 ? (255 * y) / height : 128 + 60 * Math.sin((x + y) / 3 + seed);
        data[k] = Math.max(0, Math.min(255, Math.round(base + noise[k])));
      }
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export type Part = { name: string; value: string } | { name: string; file: Buffer; filename?: string; type?: string };

export function formData(parts: Part[]): FormData {
  const fd = new FormData();
  for (const p of parts) {
    if ('file' in p) fd.append(p.name, new Blob([new Uint8Array(p.file)], { type: p.type ?? 'application/octet-stream' }), p.filename ?? `${p.name}.png`);
    else fd.append(p.name, p.value);
  }
  return fd;
}

/** A multipart body and its content type, for app.inject. */
export async function multipart(parts: Part[]): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const r = new Response(formData(parts));
  return { payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')! } };
}

export async function postJob(app: FastifyInstance, parts: Part[]) {
  const body = await multipart(parts);
  return app.inject({ method: 'POST', url: '/api/jobs', ...body });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls GET /api/jobs/:id until `done(job)` (default: a final status), at most `timeoutMs`. */
export async function waitFor(app: FastifyInstance, id: string, done: (job: any) => boolean = (j) => ['done', 'failed', 'cancelled'].includes(j.status), timeoutMs = 60_000): Promise<any> {
  const t0 = Date.now();
  for (;;) {
    const r = await app.inject({ url: `/api/jobs/${id}` });
    const job = r.json();
    if (r.statusCode !== 200) throw new Error(`GET job ${id}: ${r.statusCode} ${r.body}`);
    if (done(job)) return job;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} still ${job.status} (${JSON.stringify(job.progress)}) after ${timeoutMs} ms`);
    await sleep(20);
  }
}

export interface SseEvent {
  event: string;
  data: any;
}

/** Reads an SSE response until the server closes it, or `timeoutMs` (then throws). */
export async function readSse(url: string, timeoutMs = 20_000): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { signal: ac.signal, headers: { accept: 'text/event-stream' } });
    if (!res.body) return { status: res.status, contentType: res.headers.get('content-type'), events };
    const decoder = new TextDecoder();
    let buf = '';
    const reader = res.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let k: number;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length) events.push({ event, data: JSON.parse(data.join('\n')) });
      }
    }
    return { status: res.status, contentType: res.headers.get('content-type'), events };
  } catch (e) {
    if (ac.signal.aborted) throw new Error(`SSE ${url}: no end after ${timeoutMs} ms; got ${events.map((e) => e.event).join(',')}`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads an SSE stream (with the ids of its events) until `stop(events)` or its end; sends Last-Event-ID when given. */
export async function readSseUntil(url: string, opts: { lastEventId?: string; stop?: (events: (SseEvent & { id?: string })[]) => boolean; timeoutMs?: number; headers?: Record<string, string> } = {}) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 20_000);
  const events: (SseEvent & { id?: string })[] = [];
  let ended = false;
  try {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers };
    if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
    const res = await fetch(url, { signal: ac.signal, headers });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buf += decoder.decode(value, { stream: true });
      let k: number;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        let event = 'message';
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length) events.push({ event, id, data: JSON.parse(data.join('\n')) });
      }
      if (opts.stop?.(events)) {
        ac.abort();
        break;
      }
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
    if (!opts.stop?.(events)) throw new Error(`SSE ${url}: timed out; got ${events.map((x) => x.event).join(',')}`);
  } finally {
    clearTimeout(timer);
  }
  return { events, ended };
}
