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
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StyleloomError';
    this.code = code;
  }
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
