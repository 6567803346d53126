// `styleloom models`: the fast-style networks runnable by name (`styleloom fast --model <name>`): the built-in
// ones, then those in --dir / $STYLELOOM_FAST_MODELS; a table, or one JSON array with --json.
import type { Command } from 'commander';
import { listFastModels, summarizeFastModel, type FastModelSummary } from '../fast/catalog.js';
import { oneLineErrors } from './flags.js';

function table(rows: readonly FastModelSummary[]): string {
  if (rows.length === 0) return 'no fast-style networks (none built in, none in the models folder)';
  const cells = rows.map((m) => [
    m.name,
    m.builtin ? 'built-in' : 'yours',
    m.title ? `${m.title}${m.artist ? `, ${m.artist}` : ''}` : (m.style ?? '-'),
    m.trained ? `${m.trained.iterations} steps at ${m.trained.size} px, ${(m.trained.seconds / 60).toFixed(0)} min` : '-',
    `${(m.bytes / 1e6).toFixed(2)} MB`,
  ]);
  const head = ['name', 'kind', 'style', 'training', 'size'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => s.padEnd(w[i])).join('  ').trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}

/** Registers `styleloom models` on the program. */
export function addModelsCommand(program: Command): Command {
  const cmd = program
    .command('models')
    .description('list the fast-style networks you can run by name (styleloom fast --model <name>): the built-in ones, then those in --dir')
    .option('--dir <folder>', 'a folder of your networks (model folders, .safetensors files from styleloom train); default $STYLELOOM_FAST_MODELS')
    .option('--json', 'print one JSON array: name, style (the painting file), builtin, title, artist, licence, trained, params, bytes, path')
    .action(async (f: { dir?: string; json?: boolean }) => {
      const rows = await Promise.all((await listFastModels(f.dir ?? process.env.STYLELOOM_FAST_MODELS)).map(summarizeFastModel));
      process.stdout.write(f.json ? `${JSON.stringify(rows)}\n` : `${table(rows)}\n`);
    });
  oneLineErrors(cmd);
  return cmd;
}
