// `styleloom --resume <out.state>`: continue a run from its state file with the run's own options;
// only the flags that do not change the optimisation problem may be given again.
import { StyleloomError } from '../errors.js';
import { cliName, rowsFor } from '../options/names.js';
import { resumeOptions } from '../transfer/resume.js';
import { readStateFile } from '../transfer/state-file.js';
import type { ResumeState, StylizeOptions } from '../transfer/types.js';

/** Options that may change on resume (the option table's `resumable` rows); the rest are fixed by the state. */
const CHANGEABLE = rowsFor('image').filter((j) => j.row.resumable);

/**
 * The stylize() options that continue the run of `f.resume`, and the output path (--out, else the
 * state file's name without `.state`). `f` holds the command's values by option key; `given(key)`
 * tells whether an option was on the command line.
 */
export async function resumeFromFlags(
  f: Record<string, unknown> & { resume?: string; out: string },
  given: (key: string) => boolean,
): Promise<{ options: StylizeOptions; out: string; state: ResumeState }> {
  const file = f.resume!;
  for (const j of rowsFor('image')) {
    if (given(j.key) && !j.row.resumable) {
      const allowed = CHANGEABLE.filter((c) => !c.row.cliOnly || c.key === 'out').map((c) => cliName(c.key));
      throw new StyleloomError('E_USAGE', `${cliName(j.key)} cannot be changed when resuming: the state file fixes the run's options; drop it (only ${allowed.join(', ')} and output flags may be given)`);
    }
  }
  let out = f.out;
  if (!given('out')) {
    if (!/\.(png|jpe?g|webp)\.state$/i.test(file)) {
      throw new StyleloomError('E_USAGE', `cannot tell the output from ${file} (expected <out>.png.state); pass --out <file>`);
    }
    out = file.slice(0, -'.state'.length);
  }
  const state = await readStateFile(file);
  const overrides: Record<string, unknown> = {};
  for (const j of CHANGEABLE) if (!j.row.cliOnly && given(j.key)) overrides[j.key] = f[j.key];
  return { options: resumeOptions(state, overrides as Partial<StylizeOptions>), out, state };
}
