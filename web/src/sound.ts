// Sound mode of the page (mode=audio): the Sounds card (a voice or melody to repaint and a sound whose
// texture to take, each playable before it is sent), the job's fields, and the result as a player
// under the stage, whose picture is then the content/style/result spectrogram sheet.
import { apiName } from '../../src/options/names.js';
import type { JobView } from '../../src/server/api-types.js';
import { $, toast } from './dom.js';
import { el } from './elements.js';
import { state } from './state.js';

type SoundRole = 'content' | 'style';
const sounds: Partial<Record<SoundRole, { file: File; url: string }>> = {};

/** The optimiser's iterations of a job (a sound job's progress also counts its Griffin-Lim steps). */
export const optimiserIters = (job: JobView): number => (job.mode === 'audio' && 'gl_iters' in job.params ? job.progress.iters - job.params.gl_iters : job.progress.iters);

/** The picture of a finished job: a sound job's spectrogram sheet, none for a video (its player shows it), else its result. */
export const resultPicture = (job: JobView): string | undefined => (job.mode === 'audio' ? job.spectrogramUrl : job.mode === 'video' ? undefined : job.resultUrl);

function pick(role: SoundRole, file: File | undefined, onChange: () => void) {
  if (!file) return;
  const maxMb = state.models?.limits.maxUploadMb ?? 25;
  if (file.size > maxMb * 1024 * 1024) return toast(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the server takes at most ${maxMb} MB`, 'error');
  if (file.type && !file.type.startsWith('audio/') && !file.type.startsWith('video/')) return toast(`${file.name} is not a sound file`, 'error');
  const old = sounds[role];
  if (old) URL.revokeObjectURL(old.url);
  sounds[role] = { file, url: URL.createObjectURL(file) };
  const player = $<HTMLAudioElement>(`sound-${role}-player`);
  player.src = sounds[role]!.url;
  player.hidden = false;
  $(`sound-${role}-name`).textContent = file.name;
  onChange();
}

/** The two file inputs of the Sounds card. */
export function wireSounds(onChange: () => void) {
  for (const role of ['content', 'style'] as const) {
    const input = $<HTMLInputElement>(`file-sound-${role}`);
    input.addEventListener('change', () => pick(role, input.files?.[0], onChange));
  }
}

/** Whether a sound job can start, and the hint line under the button. */
export function soundStart(): { ok: boolean; hint: string } {
  if (!sounds.content && !sounds.style) return { ok: false, hint: 'Choose a sound to repaint and a sound whose texture to take.' };
  if (!sounds.content) return { ok: false, hint: 'Now choose the sound to repaint.' };
  if (!sounds.style) return { ok: false, hint: 'Now choose the style sound.' };
  return { ok: true, hint: `${el.iters.value} iterations · the texture of ${sounds.style.file.name}` };
}

/** The multipart body of a sound job (the library's defaults, the peer's, for everything not on the page). */
export function soundForm(): FormData | undefined {
  const { content, style } = sounds;
  if (!content || !style) return undefined;
  const fd = new FormData();
  fd.append('mode', 'audio');
  fd.append('content', content.file, content.file.name);
  fd.append('style', style.file, style.file.name);
  fd.append(apiName('iters'), el.iters.value);
  return fd;
}

/** The result player under the stage: the finished sound job's WAV, hidden for anything else. */
export function renderSoundResult(job: JobView | undefined) {
  const player = $<HTMLAudioElement>('stage-audio');
  const url = job?.mode === 'audio' && job.status === 'done' ? job.resultUrl : undefined;
  player.hidden = !url;
  if (!url) player.removeAttribute('src');
  else if (player.getAttribute('src') !== url) player.src = url;
}
