// The shape of a row of the option table (src/options/table.ts) and the value types derived from it:
// a row declares an option once; types, validation, CLI flags, API fields and docs are read off it.
import type { RgbImage } from '../image/types.js';

/** The jobs an option can apply to: `styleloom` (image), `styleloom fast`, `styleloom grid`, `styleloom audio`, `styleloom video`, `styleloom score`, `styleloom train`. */
export const JOBS = ['image', 'fast', 'grid', 'audio', 'video', 'score', 'train'] as const;
export type Job = (typeof JOBS)[number];

/**
 * What a value is. Lists come comma-separated on the CLI and the API; `image`/`images` are files
 * (uploads on the API); `path` is a file path the CLI or library names (never an API field).
 */
export type Kind = 'int' | 'number' | 'boolean' | 'choice' | 'string' | 'path' | 'layers' | 'numbers' | 'ints' | 'image' | 'images';

export type Value = number | boolean | string | readonly string[] | readonly number[];

/** What differs for one job: its default, its help line, whether the flag is mandatory or repeatable. */
export interface JobVariant {
  default?: Value;
  /** This job has no default for the option (the row's default is another job's). */
  noDefault?: boolean;
  doc?: string;
  /** The CLI flag must be given (commander's requiredOption). */
  required?: boolean;
  /** The CLI flag takes several values (`--content a.png b.png`). */
  many?: boolean;
  min?: number;
  max?: number;
}

/** A range control on the web page: slider bounds, step, and whether it moves the value's log10. */
export interface PageControl {
  min: number;
  max: number;
  step: number;
  log?: boolean;
}

export interface Row {
  /** The library's name (camelCase): stylize({ styleWeight }). */
  key: string;
  kind: Kind;
  /** One line for --help, the OpenAPI description and the README; other options named `{key}` (each edge names them its way). */
  doc: string;
  jobs: readonly Job[];
  /** CLI flag without the dashes (default: the key in kebab-case). */
  flag?: string;
  /** The value's name in --help (`--size <px>`; default by kind). */
  arg?: string;
  /** On the HTTP API as a field (snake_case of the key, or `field`)? Default true; false for CLI/host settings. */
  api?: boolean;
  /** API field name when it is not the snake_case of the key. */
  field?: string;
  /** Not an option of the library call (an output flag of the CLI: --json, --out, ...). */
  cliOnly?: boolean;
  /** Not a CLI flag of its own (the API's uploads already have flags under another row). */
  noCli?: boolean;
  /** The job cannot run without it (content, styles); the CLI checks it itself, as --resume may stand in. */
  required?: boolean;
  /** The CLI flag takes several values (`--style a.jpg b.jpg`) in every job (see also JobVariant.many). */
  many?: boolean;
  /** What one entry of a list is called in messages (default "entry"): "--style-blend-weights blend weight 2 must be ...". */
  entry?: string;
  /** A boolean that is on by default: the CLI flag is --no-<flag>, with `noDoc` as its help line. */
  negate?: boolean;
  noDoc?: string;
  /** May be given again with --resume (it does not change the optimisation problem). */
  resumable?: boolean;
  default?: Value;
  /** Bounds (numbers; for number lists, of each entry). */
  min?: number;
  max?: number;
  /** `min` itself is not allowed (> min). */
  exclusiveMin?: boolean;
  choices?: readonly string[];
  /** A `choice` that may also be an image file (init: content, noise or a file). */
  orImage?: boolean;
  /** Per-job differences (default, doc, required, many). */
  jobsVary?: Partial<Record<Job, JobVariant>>;
  page?: PageControl;
  /** A valid value other than the default, used by the table's own tests on every edge. */
  example?: Value;
}

/** The TypeScript value type of a row. */
export type ValueOf<R extends Row> = R['kind'] extends 'int' | 'number'
  ? number
  : R['kind'] extends 'boolean'
    ? boolean
    : R['kind'] extends 'choice'
      ? R extends { choices: readonly (infer C)[] }
        ? R extends { orImage: true }
          ? C | string | RgbImage
          : C
        : string
      : R['kind'] extends 'string' | 'path'
        ? string
        : R['kind'] extends 'layers'
          ? string[]
          : R['kind'] extends 'numbers' | 'ints'
            ? number[]
            : R['kind'] extends 'image'
              ? string | RgbImage
              : R['kind'] extends 'images'
                ? (string | RgbImage)[]
                : never;

/** camelCase -> snake_case, at the type level (contentWeight -> content_weight). */
export type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;

type ForJob<R, J extends Job> = R extends Row ? (J extends R['jobs'][number] ? R : never) : never;
/** The rows of `Rows` that apply to `J`. */
export type RowsOf<Rows extends readonly Row[], J extends Job> = ForJob<Rows[number], J>;

type LibRows<Rows extends readonly Row[], J extends Job> = Exclude<RowsOf<Rows, J>, { cliOnly: true }>;

/** Every option of job J by key, CLI output flags included (what a command's flags parse to). */
export type JobValues<Rows extends readonly Row[], J extends Job> = { [R in RowsOf<Rows, J> as R['key']]?: ValueOf<R> };

/** Whether row R has a default for job J (its own, or the job's variant's). */
type HasDefault<R extends Row, J extends Job> = R extends { jobsVary: { [K in J]: { noDefault: true } } }
  ? false
  : R extends { default: Value }
    ? true
    : R extends { jobsVary: { [K in J]: { default: Value } } }
      ? true
      : false;

/** The library options of job J (all optional; defaults come from the table). */
export type LibraryOptions<Rows extends readonly Row[], J extends Job> = { [R in LibRows<Rows, J> as R['key']]?: ValueOf<R> };

/** The same after defaults are filled in: an option with a default is always there. */
export type ResolvedLibraryOptions<Rows extends readonly Row[], J extends Job> = { [R in LibRows<Rows, J> as HasDefault<R, J> extends true ? R['key'] : never]: ValueOf<R> } & {
  [R in LibRows<Rows, J> as HasDefault<R, J> extends true ? never : R['key']]?: ValueOf<R>;
};

/** Whether row R's value is always there in job J's API parameters (a default, or required there). */
type Always<R extends Row, J extends Job> = HasDefault<R, J> extends true ? true : R extends { jobsVary: { [K in J]: { required: true } } } ? true : false;

type ApiRows<Rows extends readonly Row[], J extends Job> = Exclude<LibRows<Rows, J>, { api: false } | { kind: 'image' | 'images' }>;
type FieldOf<R extends Row> = R extends { field: infer F extends string } ? F : Snake<R['key']>;
/** On the API a `choice` is only its choices (no image file). */
type ApiValueOf<R extends Row> = R extends { kind: 'choice'; choices: readonly (infer C)[] } ? C : ValueOf<R>;

/**
 * A job's parameters as the HTTP API stores and returns them (snake_case): the options with defaults
 * always there, the others when given.
 */
export type ApiParams<Rows extends readonly Row[], J extends Job> = { [R in ApiRows<Rows, J> as Always<R, J> extends true ? FieldOf<R> : never]: ApiValueOf<R> } & {
  [R in ApiRows<Rows, J> as Always<R, J> extends true ? never : FieldOf<R>]?: ApiValueOf<R>;
};
