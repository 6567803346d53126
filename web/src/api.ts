// Client of the styleloom HTTP API: one fetch helper (JSON body, the server's `error` as the thrown
// message) and one function per endpoint the page calls, typed by src/server/api-types.ts.
import type { HealthView, JobView, ModelsView, Sample } from '../../src/server/api-types.js';

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body as { error?: string }).error ?? `${r.status} ${r.statusText}`);
  return body as T;
}

/** POST /api/jobs (multipart: the images and the form fields). */
export const createJob = (form: FormData) => api<{ id: string }>('/api/jobs', { method: 'POST', body: form });

export const getJob = (id: string) => api<JobView>(`/api/jobs/${id}`);

/** DELETE /api/jobs/:id: cancels the job, answers its new state. */
export const cancelJob = (id: string) => api<JobView>(`/api/jobs/${id}`, { method: 'DELETE' });

export const listJobs = (limit: number) => api<{ jobs: JobView[] }>(`/api/jobs?limit=${limit}`);

export const getHealth = () => api<HealthView>('/api/health');

export const getModels = () => api<ModelsView>('/api/models');

export const getSamples = () => api<{ samples: Sample[] }>('/api/samples');
