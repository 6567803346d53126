// Tiny type guards shared by the parsers of files and requests (state files, optimiser states, API bodies).

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
