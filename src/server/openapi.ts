// The OpenAPI 3 description of the HTTP service, served at /api/openapi.json. Keep it in step with
// the routes: test/server-api.test.ts checks that every route has a path here and the reverse. The
// job fields come from the option table (openapi-params.ts).
import { jobFieldSchemas } from './openapi-params.js';
import { JOB_MODES } from './api-types.js';

const error = { $ref: '#/components/responses/Error' };
const idParam = { $ref: '#/components/parameters/JobId' };

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });

export function openApiDocument(opts: { version: string }) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'styleloom HTTP service',
      version: opts.version,
      description:
        'Neural style transfer jobs: upload a content image and style image(s) (or pick a fast-style network), follow progress by polling or Server-Sent Events, fetch the result PNG (with provenance metadata). ' +
        'Errors are JSON {"error": "one line"}. Jobs run one at a time by default (--concurrency), at most --max-queue wait (429 beyond). ' +
        'A server started with --token needs Authorization: Bearer <token> on every route but /api/health and /api/openapi.json (401 otherwise); ' +
        'requests with a foreign Host, and state-changing ones with a foreign Origin, are 403.',
      license: { name: 'MIT' },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/api/health': {
        get: {
          summary: 'Liveness and queue state',
          operationId: 'health',
          security: [],
          responses: { 200: { description: 'The server is up', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } } },
        },
      },
      '/api/models': {
        get: {
          summary: 'What the server can run: the VGG-19 weights (path, layers) and the fast-style networks, and its limits',
          operationId: 'models',
          responses: { 200: { description: 'Models', content: { 'application/json': { schema: { $ref: '#/components/schemas/Models' } } } } },
        },
      },
      '/api/weights': {
        get: {
          summary: "The server's VGG-19 weights (safetensors), with byte ranges: what the web page's on-this-device mode reads",
          operationId: 'weights',
          parameters: [{ name: 'Range', in: 'header', required: false, schema: { type: 'string' }, description: 'bytes=start-end (one range)' }],
          responses: {
            200: { description: 'The whole file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
            206: { description: 'The range asked for', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
            404: error,
            416: { description: 'The range is outside the file' },
          },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'This document', operationId: 'openapi', security: [], responses: { 200: { description: 'OpenAPI 3 document', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      '/api/jobs': {
        get: {
          summary: 'Recent jobs, newest first (without loss histories)',
          operationId: 'listJobs',
          parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } }],
          responses: {
            200: {
              description: 'Jobs',
              content: { 'application/json': { schema: { type: 'object', required: ['jobs', 'queue'], properties: { jobs: { type: 'array', items: { $ref: '#/components/schemas/Job' } }, queue: { $ref: '#/components/schemas/QueueStats' } } } } },
            },
            400: error,
          },
        },
        post: {
          summary: 'Submit a job',
          description:
            'multipart/form-data. Gatys mode (default): one "content" file, one or more "style" files, and optional text fields with the CLI\'s parameters (snake_case). ' +
            'Fast mode: mode=fast, model=<name from /api/models>, one "content" file, optional size and original_colors. ' +
            'Sound (mode=audio): one "content" sound (or texture=<seconds> and none) and one or more "style" sounds in any format ffmpeg reads (WAV, FLAC, MP3, OGG, M4A), within the server\'s duration limit, with the audio command\'s fields; the result is a WAV. ' +
            'Video (mode=video): one "content" clip (MP4, WebM, MOV, MKV, GIF, ...) within the server\'s limits on bytes, seconds (maxVideoSeconds) and frame size (maxVideoPixels), probed at submission, with the video command\'s fields; engine=gatys (default) with one or more "style" images, or engine=fast with model=<name from /api/models>; the result is an MP4. ' +
            'Images are validated by decoding (PNG, JPEG, WebP, GIF, TIFF, AVIF), whatever their name or MIME type.',
          operationId: 'createJob',
          requestBody: { required: true, content: { 'multipart/form-data': { schema: { $ref: '#/components/schemas/JobRequest' } } } },
          responses: {
            201: {
              description: 'Queued',
              headers: { Location: { schema: { type: 'string' }, description: 'URL of the job' } },
              content: { 'application/json': { schema: { type: 'object', required: ['id', 'status', 'url'], properties: { id: { type: 'string', format: 'uuid' }, status: { type: 'string' }, url: { type: 'string' }, eventsUrl: { type: 'string' } } } } },
            },
            400: error,
            401: error,
            403: error,
            408: error,
            413: error,
            415: error,
            429: error,
            503: error,
            507: error,
          },
        },
      },
      '/api/jobs/{id}': {
        get: {
          summary: 'A job: status, parameters, progress, latest loss, loss history, timestamps, result URL',
          operationId: 'getJob',
          parameters: [idParam],
          responses: { 200: { description: 'The job', content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } }, 404: error },
        },
        delete: {
          summary: 'Cancel a queued or running job (a running one stops within one iteration); delete a finished one (done, failed, cancelled) with its files',
          operationId: 'cancelOrDeleteJob',
          parameters: [idParam],
          responses: {
            200: {
              description: 'The job, now cancelled; or {id, deleted: true} for a finished job (then 404 afterwards)',
              content: {
                'application/json': {
                  schema: { oneOf: [{ $ref: '#/components/schemas/Job' }, { type: 'object', required: ['id', 'deleted'], properties: { id: { type: 'string', format: 'uuid' }, deleted: { type: 'boolean' } } }] },
                },
              },
            },
            404: error,
          },
        },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary: 'Server-Sent Events of a job',
          description:
            'First a "state" event with the whole job (so a late client starts from the current state), then "progress" per iteration ({iter, iters, loss}), "preview" every few iterations ({iter, url}), ' +
            'a video job\'s "video" per iteration and per finished frame ({frame, frames, iter, iters, sPerFrame, etaS}; its preview is the latest finished frame), "state" on each status change; the stream ends after the state event whose status is done, failed or cancelled. Comment lines (": ping") keep the connection alive.',
          operationId: 'jobEvents',
          parameters: [idParam],
          responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: error },
        },
      },
      '/api/jobs/{id}/result': {
        get: {
          summary: 'The result: a PNG (with provenance text chunks), for mode=audio a WAV (provenance in its INFO chunk), for mode=video an MP4 (provenance in its comment tag)',
          description: 'Answers a single byte range (Range: bytes=first-last, first-, -suffix) with 206 and Content-Range, so that a video element can seek; other Range headers get the whole file.',
          operationId: 'jobResult',
          parameters: [idParam, { name: 'Range', in: 'header', required: false, schema: { type: 'string', example: 'bytes=0-1023' } }],
          responses: {
            200: { description: 'PNG, WAV or MP4', content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'audio/wav': { schema: { type: 'string', format: 'binary' } }, 'video/mp4': { schema: { type: 'string', format: 'binary' } } } },
            206: { description: 'the requested bytes (Content-Range says which)', content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } } } },
            416: error,
            404: error,
            409: error,
          },
        },
      },
      '/api/jobs/{id}/spectrogram.png': {
        get: {
          summary: 'mode=audio, done: the content, style and result spectrograms side by side, labelled',
          operationId: 'jobSpectrogram',
          parameters: [idParam],
          responses: { 200: { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, 404: error, 409: error },
        },
      },
      '/api/jobs/{id}/preview.png': {
        get: {
          summary: 'The latest preview of a running job',
          operationId: 'jobPreview',
          parameters: [idParam, { name: 'iter', in: 'query', required: false, schema: { type: 'integer' }, description: 'ignored (cache buster)' }],
          responses: { 200: { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, 404: error },
        },
      },
      '/api/samples': {
        get: {
          summary: 'Sample images the web page offers as one-click choices (the image files of the server\'s samples folder; empty when it has none)',
          operationId: 'listSamples',
          responses: {
            200: {
              description: 'Samples, by name',
              content: { 'application/json': { schema: { type: 'object', required: ['samples'], properties: { samples: { type: 'array', items: { $ref: '#/components/schemas/Sample' } } } } } },
            },
          },
        },
      },
      '/api/samples/{name}': {
        get: {
          summary: 'One sample image, as stored, or a 192 px square JPEG thumbnail with thumb=1',
          operationId: 'getSample',
          parameters: [
            { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }, description: 'a name from GET /api/samples (nothing else is served)' },
            { name: 'thumb', in: 'query', required: false, schema: { type: 'string', enum: ['1', 'true'] } },
          ],
          responses: {
            200: {
              description: 'The image',
              content: { 'image/png': { schema: { type: 'string', format: 'binary' } }, 'image/jpeg': { schema: { type: 'string', format: 'binary' } }, 'image/webp': { schema: { type: 'string', format: 'binary' } } },
            },
            404: error,
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the --token of the server (when it has one)' } },
      parameters: {
        JobId: { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' } },
      },
      responses: {
        Error: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string', description: 'one line: what is wrong and what to do' } } },
        Loss: { type: 'object', properties: { content: { type: 'number' }, style: { type: 'number' }, tv: { type: 'number' }, total: { type: 'number' } } },
        QueueStats: {
          type: 'object',
          properties: { queued: { type: 'integer' }, running: { type: 'integer' }, concurrency: { type: 'integer' }, maxQueue: { type: 'integer' }, paused: { type: 'boolean' } },
        },
        Health: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, version: { type: 'string' }, queue: { $ref: '#/components/schemas/QueueStats' }, uptimeS: { type: 'integer' } } },
        Models: {
          type: 'object',
          properties: {
            vgg: {
              type: 'object',
              description: 'name (the file name of the weights) is null (with error) when the server has no VGG-19 weights: then only mode=fast works',
              properties: {
                name: { type: 'string', nullable: true },
                layers: { type: 'array', items: { type: 'string' } },
                preprocess: { type: 'string' },
                defaultContentLayers: { type: 'array', items: { type: 'string' } },
                defaultStyleLayers: { type: 'array', items: { type: 'string' } },
                error: { type: 'string' },
              },
            },
            fast: {
              type: 'array',
              description: 'the fast-style networks by name: built-in ones (trained by styleloom) first, then the server\'s own',
              items: {
                type: 'object',
                required: ['name', 'builtin'],
                properties: {
                  name: { type: 'string' },
                  builtin: { type: 'boolean' },
                  style: { type: 'string', description: 'built-in only: the painting it learned, by its file name among the samples' },
                  title: { type: 'string' },
                  artist: { type: 'string' },
                  licence: { type: 'string' },
                },
              },
            },
            limits: { type: 'object', properties: { maxSize: { type: 'integer' }, maxIters: { type: 'integer' }, maxUploadMb: { type: 'number' }, maxPixels: { type: 'integer' }, maxStyles: { type: 'integer' }, maxVideoSeconds: { type: 'number' }, maxVideoPixels: { type: 'integer' } } },
          },
        },
        Job: {
          type: 'object',
          required: ['id', 'status', 'mode', 'params', 'progress', 'loss', 'createdAt'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            status: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
            mode: { type: 'string', enum: [...JOB_MODES] },
            params: { type: 'object', description: 'the parameters with defaults filled in (field names as in the request)' },
            inputs: { type: 'object', properties: { content: { type: 'string' }, styles: { type: 'array', items: { type: 'string' } } }, description: 'the client file names' },
            progress: { type: 'object', properties: { iter: { type: 'integer' }, iters: { type: 'integer' } } },
            loss: { allOf: [{ $ref: '#/components/schemas/Loss' }], nullable: true, description: 'latest loss terms' },
            lossHistory: { type: 'array', items: { type: 'number' }, description: 'total loss before each update (not in the list endpoint)' },
            error: { type: 'string', description: 'one line, when failed' },
            createdAt: { type: 'string', format: 'date-time' },
            startedAt: { type: 'string', format: 'date-time' },
            finishedAt: { type: 'string', format: 'date-time' },
            width: { type: 'integer' },
            height: { type: 'integer' },
            resultUrl: { type: 'string', description: 'when done' },
            previewUrl: { type: 'string', description: 'the latest preview: the image so far, or for mode=audio the spectrogram so far' },
            spectrogramUrl: { type: 'string', description: 'mode=audio, when done: content, style and result spectrograms (PNG)' },
            duration: { type: 'number', description: 'mode=audio, when done: seconds of the result; mode=video: of the part of the clip stylised' },
            frames: { type: 'integer', description: 'mode=video: frames to stylise (progress counts them)' },
            fps: { type: 'number', description: 'mode=video: frame rate of the result' },
            eventsUrl: { type: 'string' },
            worker: { type: 'string', description: 'with Redis workers: the worker that runs (ran) the job' },
            attempt: { type: 'integer', description: 'with Redis workers: which run of the job this is (1 = the first; a worker that died mid-job makes another)' },
          },
        },
        Sample: {
          type: 'object',
          required: ['name', 'url', 'thumbUrl'],
          properties: {
            name: { type: 'string' },
            url: { type: 'string' },
            thumbUrl: { type: 'string' },
            bytes: { type: 'integer' },
            width: { type: 'integer' },
            height: { type: 'integer' },
          },
        },
        JobRequest: {
          type: 'object',
          properties: {
            content: { type: 'string', format: 'binary', description: 'the photo to repaint, (mode=audio) the sound, or (mode=video) the clip; required except for mode=audio with texture' },
            style: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'style image(s), Gatys mode and mode=video with engine=gatys, or style sound(s), mode=audio; repeat the field' },
            mask: { type: 'string', format: 'binary', description: 'where to stylise (white) and keep the content (black), grey for soft edges, or a PNG with alpha; of the content\'s aspect ratio (both modes)' },
            style_mask: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'one mask per style, in order: where on the content each style goes (Gatys mode)' },
            style_region: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'one mask per style, in order: the part of each style image to take the style from (Gatys mode)' },
            mode: str('gatys (default), fast, audio or video', { enum: [...JOB_MODES], default: 'gatys' }),
            ...jobFieldSchemas(),
          },
        },
      },
    },
  };
}
