// Keeps the settings (sliders, colours, mode, fast network) in localStorage between visits; not
// read back under ?dev.
import { JOB_MODES } from '../../src/server/api-types.js';
import { el } from './elements.js';
import { DEV, state } from './state.js';

const SETTINGS_KEY = 'styleloom.settings.v1';

export function saveSettings() {
  try {
    localStorage.setItem(
      SETTINGS_KEY,
      JSON.stringify({ sw: el.styleWeight.value, size: el.size.value, iters: el.iters.value, orig: el.originalColors.checked, mode: state.mode, model: state.fastModel }),
    );
  } catch {
    /* private mode */
  }
}

export function loadSettings() {
  if (DEV) return;
  try {
    const s = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? 'null');
    if (!s) return;
    if (s.sw) el.styleWeight.value = s.sw;
    if (s.size) el.size.value = s.size;
    if (s.iters) el.iters.value = s.iters;
    el.originalColors.checked = Boolean(s.orig);
    if (JOB_MODES.includes(s.mode)) state.mode = s.mode;
    if (typeof s.model === 'string') state.fastModel = s.model;
  } catch {
    /* ignore */
  }
}
