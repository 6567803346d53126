// The option table reaches every edge: each row is a flag in --help of each command it applies to
// (with its default), an OpenAPI property with its range, choices and default, a field POST /api/jobs
// accepts and stores, and a row of the README's generated table; and the five fields the API lacked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { optionsMarkdown, TABLE_BEGIN, TABLE_END } from '../src/options/docs.js';
import { apiRowsFor, cliName, fieldOf, flagOf, rowsFor, type JobRow } from '../src/options/names.js';
import { OPTION_ROWS } from '../src/options/table.js';
import type { Job, Row } from '../src/options/types.js';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { fieldSchema } from '../src/server/openapi-params.js';
import { ASSETS, ROOT, VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { postJob, tinyPng, type Part } from './helpers/server.js';

const COMMANDS: Record<Job, string | null> = { image: null, fast: 'fast', grid: 'grid', audio: 'audio', video: 'video', score: 'score', train: 'train' };
const JOBS = Object.keys(COMMANDS) as Job[];

function commandOf(job: Job): Command {
  const program = buildProgram(new AbortController().signal);
  const name = COMMANDS[job];
  return name === null ? program : program.commands.find((c) => c.name() === name)!;
}

/** The text fields a value travels as over multipart. */
const asField = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

describe('every row in --help of every command it applies to', () => {
  for (const job of JOBS) {
    test(`styleloom ${COMMANDS[job] ?? ''} --help`, () => {
      const help = commandOf(job).helpInformation().replace(/\s+/g, ' ');
      const rows = rowsFor(job);
      assert.ok(rows.length > 5, 'the job has rows');
      for (const j of rows) {
        const flag = `--${j.row.negate ? 'no-' : ''}${flagOf(j.row)}`;
        assert.ok(help.includes(`${flag} `) || help.endsWith(flag), `${flag} missing from --help of ${job}`);
        if (j.default !== undefined && j.row.kind !== 'boolean') {
          assert.ok(help.includes(`default: ${JSON.stringify(j.default)}`), `${flag}: default ${JSON.stringify(j.default)} not shown for ${job}`);
        }
        if (j.row.kind === 'choice' && !j.row.orImage) {
          assert.ok(help.includes(`choices: ${j.row.choices!.map((c) => JSON.stringify(c)).join(', ')}`), `${flag}: choices not shown`);
        }
      }
    });
  }

  test('a command has no flag the table does not declare (besides --help/--version)', () => {
    for (const job of JOBS) {
      const declared = new Set(rowsFor(job).map((j) => `--${j.row.negate ? 'no-' : ''}${flagOf(j.row)}`));
      for (const o of commandOf(job).options) {
        if (o.long === '--version') continue;
        assert.ok(declared.has(o.long!), `${o.long} of ${job} is not a row of the option table`);
      }
    }
  });
});

describe('the OpenAPI schema and POST /api/jobs', () => {
  let srv: StyleloomServer;
  let content: Buffer;
  let style: Buffer;
  before(async () => {
    [content, style] = await Promise.all([tinyPng(48, 32, 1), tinyPng(40, 40, 2)]);
    srv = await createServer({ dataDir: tempDir('styleloom-options-'), weights: VGG_PARTIAL, fastModelsDir: path.join(ASSETS, 'fast-style'), paused: true, threads: 1, maxQueue: 200 });
  });
  after(async () => srv?.close());

  const apiRows = (): [Job, JobRow][] => (['image', 'fast'] as Job[]).flatMap((job) => apiRowsFor(job).map((j): [Job, JobRow] => [job, j]));

  test('every API row is a JobRequest property with its range, choices and default', async () => {
    const doc = (await srv.app.inject({ url: '/api/openapi.json' })).json();
    const props = doc.components.schemas.JobRequest.properties;
    for (const [job, j] of apiRows()) {
      const p = props[fieldOf(j.row)];
      assert.ok(p, `${fieldOf(j.row)} missing from JobRequest`);
      // a field of both modes has the gatys schema, and the fast one under x-fast
      const want = job === 'fast' && p['x-fast'] ? p['x-fast'] : p;
      const { description: _d, ...got } = { ...want };
      for (const k of ['type', 'minimum', 'maximum', 'exclusiveMinimum', 'enum', 'default']) {
        assert.deepEqual(got[k], fieldSchema(j)[k], `${fieldOf(j.row)} (${job}): ${k}`);
      }
      if (j.min !== undefined && (j.row.kind === 'int' || j.row.kind === 'number')) assert.equal(got.minimum, j.min, `${fieldOf(j.row)}: minimum`);
      if (j.max !== undefined && (j.row.kind === 'int' || j.row.kind === 'number')) assert.equal(got.maximum, j.max, `${fieldOf(j.row)}: maximum`);
      if (j.default !== undefined) assert.equal(String(got.default), String(j.default), `${fieldOf(j.row)} (${job}): default`);
      if (j.row.kind === 'choice') assert.deepEqual(got.enum, [...j.row.choices!]);
      assert.ok(typeof p.description === 'string' && p.description.length > 5);
    }
  });

  test('every API row has an example, and POST /api/jobs accepts it and stores it in params', async () => {
    for (const [job, j] of apiRows()) {
      const field = fieldOf(j.row);
      const example = (j.row as Row).example;
      assert.notEqual(example, undefined, `row ${j.key} is an API field but has no example value to test it with`);
      if (job === 'fast' && j.key === 'model') continue; // the fast job below always sends it
      const parts: Part[] = [{ name: 'content', file: content, filename: 'photo.png', type: 'image/png' }];
      if (job === 'image') parts.push({ name: 'style', file: style, filename: 'painting.png', type: 'image/png' });
      else parts.push({ name: 'mode', value: 'fast' }, { name: 'model', value: 'wave' });
      parts.push({ name: field, value: asField(example) });
      const r = await postJob(srv.app, parts);
      assert.equal(r.statusCode, 201, `${field}=${asField(example)} (${job}): ${r.body}`);
      const stored = (await srv.app.inject({ url: `/api/jobs/${r.json().id}` })).json();
      assert.deepEqual(stored.params[field], example, `${field} (${job}) stored as ${JSON.stringify(stored.params[field])}`);
    }
  });

  test('the five fields the API lacked reach the library options of the job, and are range-checked', async () => {
    const { stylizeOptionsFor, parseGatysParams } = await import('../src/server/params.js');
    const ctx = { limits: { maxSize: 1024, maxIters: 2000, maxAudioSeconds: 60 }, vgg: { path: VGG_PARTIAL, layers: ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv3_4'] }, fastModels: [] };
    const p = parseGatysParams({ ema: '0.9', min_size: '32', noise_ratio: '0.25', scales: '2', scale_iters: '3,2', style_layer_weights: '1,2,3', size: '64' }, 1, ctx);
    const o = stylizeOptionsFor(p, 'c.png', ['s.png']);
    assert.equal(o.ema, 0.9);
    assert.equal(o.minSize, 32);
    assert.equal(o.noiseRatio, 0.25);
    assert.deepEqual(o.scaleIters, [3, 2]);
    assert.deepEqual(o.styleLayerWeights, [1, 2, 3]);
    const bad: [Record<string, string>, RegExp][] = [
      [{ ema: '1' }, /^ema must be from 0 \(off\) to below 1/],
      [{ min_size: '8' }, /^min_size must be a whole number from 16 to 8192, got 8$/],
      [{ noise_ratio: '2' }, /^noise_ratio must be a finite number from 0 to 1, got 2$/],
      [{ scale_iters: '3,2' }, /^scale_iters has 2 entries but scales is 1/],
      [{ scale_iters: '3,,2', scales: '3' }, /^scale_iters: entry 2 of "3,,2" is empty/],
      [{ style_layer_weights: '1,2' }, /^style_layer_weights has 2 entries for 3 style layers/],
      [{ scales: '2', scale_iters: '1500,1000' }, /^scale_iters must add up to at most 2000 on this server, got 2500$/],
    ];
    for (const [fields, re] of bad) {
      assert.throws(() => parseGatysParams(fields, 1, ctx), (e: Error & { status?: number }) => e.status === 400 && re.test(e.message), JSON.stringify(fields));
    }
  });
});

describe('the README', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  test('holds exactly the table generated from the option table (npm run docs:options)', () => {
    const a = readme.indexOf(TABLE_BEGIN);
    const b = readme.indexOf(TABLE_END);
    assert.ok(a >= 0 && b > a, 'README has the option table markers');
    assert.equal(readme.slice(a + TABLE_BEGIN.length, b).trim(), optionsMarkdown().trim(), 'README option table is stale: run npm run docs:options');
  });

  test('names every row by its flag, and every API field', () => {
    for (const r of OPTION_ROWS as readonly Row[]) {
      assert.ok(readme.includes(`\`${cliName(r.key)}`), `README lacks ${cliName(r.key)}`);
    }
    for (const job of ['image', 'fast'] as Job[]) for (const j of apiRowsFor(job)) assert.ok(readme.includes(`\`${fieldOf(j.row)}\``), `README lacks API field ${fieldOf(j.row)}`);
  });
});
