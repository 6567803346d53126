// `styleloom video`: a clip repainted frame by frame (gatys with temporal consistency, or a fast network),
// a progress bar (frame i of N, s/frame, ETA) or periodic lines on stderr, --json's final line, one-line errors.
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { StyleloomError } from '../errors.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues } from '../options/types.js';
import { framesDirFor } from '../video/frames-dir.js';
import { stylizeVideo } from '../video/stylize-video.js';
import type { VideoOptions, VideoProgressEvent } from '../video/types.js';
import { addJobCommand, jobValues } from './flags.js';

type VideoFlags = JobValues<OptionRows, 'video'> & { out: string; printEvery: number; json: boolean };

const CLI_ONLY = ['json', 'printEvery'];

const clock = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** Progress of the frames: a bar on a terminal, else a line every `printEvery` frames. */
function reporter(tty: boolean, printEvery: number) {
  const frameTimes: number[] = [];
  const rate = () => (frameTimes.length ? frameTimes.reduce((a, b) => a + b, 0) / frameTimes.length / 1000 : 0);
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'styleloom video {bar} frame {value}/{total} | {spf} s/frame | {info} | ETA {left}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let left = '…'; // the bar's own {eta} token is cli-progress's; ours comes with each finished frame
    return {
      update(e: VideoProgressEvent) {
        if (e.phase === 'frame' && !e.resumed) frameTimes.push(e.ms);
        if (e.etaMs !== undefined) left = clock(e.etaMs);
        const info = e.phase === 'iter' ? `iter ${e.iter}/${e.iters}` : e.resumed ? 'from the frames folder' : 'done';
        const payload = { spf: rate().toFixed(2), info, left };
        if (!started) {
          bar.start(e.frames, 0, payload);
          started = true;
        }
        bar.update(e.phase === 'frame' ? e.frame : e.frame - 1, payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(e: VideoProgressEvent) {
      if (e.phase !== 'frame') return;
      if (!e.resumed) frameTimes.push(e.ms);
      if (printEvery <= 0 || (e.frame % printEvery !== 0 && e.frame !== e.frames)) return;
      const what = e.resumed ? 'taken from the frames folder' : `${(e.ms / 1000).toFixed(2)} s (mean ${rate().toFixed(2)} s/frame), ETA ${clock(e.etaMs ?? 0)}`;
      process.stderr.write(`frame ${e.frame}/${e.frames}  ${what}\n`);
    },
    stop() {},
  };
}

async function runVideo(flags: Record<string, unknown>, signal: AbortSignal): Promise<void> {
  const f = jobValues(flags, 'video') as VideoFlags;
  if (f.content === undefined) throw new StyleloomError('E_USAGE', 'missing --content <file>: the video to repaint (see styleloom video --help)');
  if (f.mode !== 'fast' && !f.styles?.length) throw new StyleloomError('E_USAGE', 'missing --style <file>: the style image (or --mode fast --model <network>; see styleloom video --help)');
  const library = Object.fromEntries(Object.entries(f).filter(([k]) => !CLI_ONLY.includes(k))) as unknown as VideoOptions;
  const bar = reporter(Boolean(process.stderr.isTTY), f.printEvery);
  let r;
  try {
    r = await stylizeVideo(library, { signal, onProgress: (e) => bar.update(e) });
  } catch (e) {
    bar.stop();
    if (e instanceof StyleloomError && e.code === 'E_ABORTED') {
      throw new StyleloomError('E_ABORTED', `cancelled: no video written; the finished frames are in ${framesDirFor(f.out)} (continue with the same flags and --resume)`);
    }
    throw e;
  }
  bar.stop();
  const summary = {
    frames: r.frames, fps: r.fps, width: r.width, height: r.height, s_per_frame: Number(r.sPerFrame.toFixed(4)), out: r.out,
    mode: r.mode, temporal: r.temporal, flow_ms_per_frame: Number(r.flowMsPerFrame.toFixed(2)), reliable: Number(r.reliable.toFixed(4)), resumed_frames: r.resumedFrames, audio: r.hasAudio,
  };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stderr.write(`wrote ${r.out}: ${r.frames} frames of ${r.width}x${r.height} at ${r.fps} fps, ${r.sPerFrame.toFixed(2)} s/frame (flow ${r.flowMsPerFrame.toFixed(1)} ms)${r.resumedFrames ? `, ${r.resumedFrames} frames resumed` : ''}\n`);
}

/** Registers `styleloom video` on the program. */
export function addVideoCommand(program: Command, signal: AbortSignal): Command {
  return addJobCommand(program, 'video', 'Video style transfer: repaint every frame of --content in the style of --style (temporally consistent after Ruder et al. 2016), or with a fast network (--mode fast --model).', async (flags) => runVideo(flags, signal));
}
