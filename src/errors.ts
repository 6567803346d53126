// The one error type of styleloom: a stable code plus a one-line message that says what is wrong
// and what to do. Thrown at the edge where input is validated; the CLI prints `message` and exits.

export type ErrorCode =
  | 'E_USAGE' // bad flag, bad number, bad combination
  | 'E_INPUT' // a file that is missing, unreadable, not an image, too large
  | 'E_WEIGHTS' // weights file corrupt, missing layer, checksum mismatch
  | 'E_DOWNLOAD' // network transfer failed
  | 'E_OUTPUT' // cannot write the output
  | 'E_DIVERGED' // loss became NaN/Inf
  | 'E_DEVICE' // execution provider not available
  | 'E_ABORTED' // cancelled through an AbortSignal
  | 'E_INTERNAL'; // a bug: please report

export class StyleloomError extends Error {
  readonly code: ErrorCode;
  /**
   * The message with every option it names written `{key}` (the library's option key, e.g.
   * `{styleWeight}`), so that each edge names the option its own way: `--style-weight` on the CLI,
   * `style_weight` in the HTTP API (renderMessage). `message` names them by key.
   */
  readonly template?: string;
  /** The option keys the message names, the one at fault first. */
  readonly options: readonly string[];
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; template?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StyleloomError';
    this.code = code;
    this.template = options?.template;
    this.options = options?.template ? [...options.template.matchAll(TOKEN)].map((m) => m[1]) : [];
  }
}

const TOKEN = /\{([a-z][A-Za-z0-9]*)\}/g;

/** `template` with each `{key}` replaced by nameOf(key). */
export function renderTemplate(template: string, nameOf: (key: string) => string): string {
  return template.replace(TOKEN, (_, k: string) => nameOf(k));
}

/**
 * An error about options: `template` names each option as `{key}`, e.g.
 * optionError('E_USAGE', '{scaleIters} has 3 entries but {scales} is 2; give one count per scale').
 */
export function optionError(code: ErrorCode, template: string): StyleloomError {
  return new StyleloomError(code, renderTemplate(template, (k) => k), { template });
}

/** The message of `e` with the options named by `nameOf` (an edge's names); other errors as they are. */
export function renderMessage(e: StyleloomError, nameOf: (key: string) => string): string {
  return e.template ? renderTemplate(e.template, nameOf) : e.message;
}

/** Exit status the CLI uses for each code (2 = usage, as is conventional; 130 = interrupted). */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'E_USAGE':
      return 2;
    case 'E_ABORTED':
      return 130;
    case 'E_INTERNAL':
      return 70;
    default:
      return 1;
  }
}

export function isStyleloomError(e: unknown): e is StyleloomError {
  return e instanceof StyleloomError;
}
