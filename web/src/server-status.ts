// The server pill in the top bar: ready / busy (jobs running and queued) / unreachable, from
// GET /api/health.
import { getHealth } from './api.js';
import { el } from './elements.js';

export async function refreshHealth() {
  try {
    const hl = await getHealth();
    const { running, queued } = hl.queue;
    el.serverPill.dataset.state = running ? 'busy' : 'ok';
    el.serverText.textContent = running ? `${running} running${queued ? ` · ${queued} queued` : ''}` : queued ? `${queued} queued` : 'Server ready';
  } catch {
    el.serverPill.dataset.state = 'down';
    el.serverText.textContent = 'Server unreachable';
  }
}
