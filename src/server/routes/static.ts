// What is not a job: GET /api/health, GET /api/models, GET /api/openapi.json, and the web page
// (web/dist served as static files, or a placeholder page that points at the API when it is not built;
// /browser/ from dist/browser when web/dist has no copy of the bundle, as in the published package).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { VERSION } from '../../version.js';
import type { HealthView, ModelsView } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { openApiDocument } from '../openapi.js';

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>styleloom</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>styleloom</h1>
<p>The web page is not built (no <code>web/dist</code> folder). The HTTP API is running:
see <a href="/api/openapi.json">/api/openapi.json</a>, <a href="/api/health">/api/health</a> and
<a href="/api/jobs">/api/jobs</a>.</p>
</body></html>
`;

/** Registers GET /api/health, GET /api/models and GET /api/openapi.json. */
export function registerMetaRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { queue, limits, models } = ctx;

  app.get('/api/health', async (): Promise<HealthView> => ({ ok: true, version: VERSION, queue: await queue.stats(), uptimeS: Math.round(process.uptime()) }));

  app.get('/api/models', async (): Promise<ModelsView> => {
    const fast = await models.refresh();
    const { maxSize, maxIters, maxUploadMb, maxPixels, maxStyles, maxVideoSeconds, maxVideoPixels } = limits;
    const v = models.vgg;
    return {
      vgg: v
        ? { name: path.basename(v.path), layers: v.layers, preprocess: v.preprocess, defaultContentLayers: v.defaultContentLayers, defaultStyleLayers: v.defaultStyleLayers }
        : { name: null, layers: [], error: models.vggError },
      fast: fast.map((m) => (m.card ? { name: m.name, builtin: true, style: m.card.style, title: m.card.title, artist: m.card.artist, licence: m.card.licence } : { name: m.name, builtin: false })),
      limits: { maxSize, maxIters, maxUploadMb, maxPixels, maxStyles, maxVideoSeconds, maxVideoPixels },
    };
  });

  app.get('/api/openapi.json', async () => openApiDocument({ version: VERSION }));
}

/**
 * Serves `webDir` at / when it has an index.html, else the placeholder page. When `webDir` has no
 * browser/ folder (the npm package ships the bundle once, in dist/browser), `/browser/*` comes from `browserDir`.
 */
export async function registerWebPage(app: FastifyInstance, webDir: string, browserDir?: string): Promise<void> {
  if (fs.existsSync(path.join(webDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: path.resolve(webDir), prefix: '/', index: ['index.html'], dotfiles: 'deny' });
    if (browserDir && !fs.existsSync(path.join(webDir, 'browser')) && fs.existsSync(path.join(browserDir, 'styleloom.js'))) {
      await app.register(fastifyStatic, { root: path.resolve(browserDir), prefix: '/browser/', decorateReply: false, dotfiles: 'deny' });
    }
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
  }
}
