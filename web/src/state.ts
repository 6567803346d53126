// The page's state, shared by its modules: the chosen images, the server's samples and models, the
// mode and fast network, and the job on view (with its live event stream).
import type { JobMode, JobView, ModelsView, Sample } from '../../src/server/api-types.js';
import type { LossTerms } from '../../src/loss/types.js';

export type Role = 'content' | 'style';

/** Where a job runs: on the server's API, or in this browser (on this device). */
export type Where = 'server' | 'device';

export interface Picked {
  blob: Blob;
  name: string;
  url: string;
  sample?: string;
}

/** The job on the stage. */
export interface View {
  id: string;
  job: JobView;
  es?: EventSource;
  losses: number[];
  rate?: { t0: number; i0: number };
  /** The evaluation with the lowest total seen over SSE (its terms are shown). */
  best?: LossTerms;
  previewIter: number;
  imageSeq: number;
  /** A run on this device (not a server job): what cancels it. */
  local?: AbortController;
}

/** `?dev` in the address: lower slider minimums for quick tests, no saved settings. */
export const DEV = new URLSearchParams(location.search).has('dev');

export const picked: Partial<Record<Role, Picked>> = {};

/** The content image of jobs started from this page (for "hold to compare"). */
export const jobContent = new Map<string, string>();

export const state: {
  samples: Sample[];
  models: ModelsView | null;
  mode: JobMode;
  where: Where;
  fastModel: string;
  view: View | null;
} = {
  samples: [],
  models: null,
  mode: 'gatys',
  where: 'server',
  fastModel: '',
  view: null,
};
