// The resumable state of a stylize() run, in one place for its importers (the library API, the CLI):
// the resume rules (resume.ts), the state file format (state-file.ts) and the state's types (types.ts).
export { checkResume, resumeOptions, stateOptionsOf, statePathFor } from './resume.js';
export { encodeState, parseState, readStateFile, serializeState, STATE_MAGIC, STATE_VERSION, writeStateFile } from './state-file.js';
export type { OptimizerState, ResumeState, StateOptions, StateReason } from './types.js';
