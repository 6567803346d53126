// The server pill in the top bar: ready / busy (jobs running and queued) / unreachable, from
// GET /api/health.
import { getHealth } from './api.js';
import { el } from './elements.js';

/** Updates the pill; resolves to whether the server answered. */
export async function refreshHealth(): Promise<boolean> {
  try {
    const hl = await getHealth();
    const { running, queued } = hl.queue;
    el.serverPill.dataset.state = running ? 'busy' : 'ok';
    el.serverText.textContent = running ? `${running} running${queued ? ` · ${queued} queued` : ''}` : queued ? `${queued} queued` : 'Server ready';
    return true;
  } catch {
    el.serverPill.dataset.state = 'down';
    el.serverText.textContent = 'Server unreachable';
    return false;
  }
}
