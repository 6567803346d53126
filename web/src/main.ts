// Entry of the styleloom web page (plain TS, no framework): wires the modules beside it to the page's
// events and loads the server's state; each module says at its top what it is for.
import './style.css';
import { isFinal } from '../../src/server/api-types.js';
import { scheduleChart } from './chart.js';
import { applyRanges } from './controls.js';
import { $ } from './dom.js';
import { el } from './elements.js';
import { onHistoryOpen, refreshHistory } from './history-list.js';
import { cancelCurrent, openJob } from './job-stream.js';
import { fitStage, renderJob, wireCompare } from './job-view.js';
import { loadSettings } from './persist.js';
import { loadSamples, wireDrop } from './pickers.js';
import { refreshHealth } from './server-status.js';
import { loadModels, renderSettings, setMode, setWhere, wireSettings } from './settings.js';
import { initialWhere } from './device.js';
import { start, updateStart } from './start.js';
import { wireMaskEditor } from './mask-editor.js';
import { wireSounds } from './sound.js';
import { wireVideo } from './video.js';
import { DEV, state } from './state.js';

function init() {
  applyRanges(DEV);
  loadSettings();
  wireSettings();
  wireDrop('content');
  wireDrop('style');
  wireMaskEditor();
  wireSounds(updateStart);
  wireVideo(updateStart);
  // a file dropped beside the tiles must not replace the page
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  el.startBtn.addEventListener('click', () => void start());
  el.cancel.addEventListener('click', () => void cancelCurrent());
  wireCompare();
  onHistoryOpen((id) => void openJob(id));
  $('history-refresh').addEventListener('click', () => void refreshHistory());
  new ResizeObserver(() => scheduleChart()).observe(el.chart);
  new ResizeObserver(() => fitStage()).observe(el.stage);
  setInterval(() => {
    if (document.visibilityState === 'visible') {
      void refreshHealth();
      if (state.view && !isFinal(state.view.job.status)) renderJob();
    }
  }, 5000);

  renderSettings();
  setMode(state.mode);
  void refreshHealth().then((up) => {
    setWhere(initialWhere(up));
    if (!up) return; // a static host (or the server is down): no models, samples or history to read
    void loadModels();
    void loadSamples();
    void refreshHistory();
  });
  const m = /^#job=([0-9a-f-]{36})$/.exec(location.hash);
  if (m) void openJob(m[1]);
}

init();
