// POST /api/jobs with mode=video: the clip probed once at submission (not a video, sound only, no frames,
// longer or larger than this server takes: a one-line 400 each), its frames counted for the job's progress.
import { StyleloomError } from '../../errors.js';
import { openClip, type Clip } from '../../video/clip.js';
import { probeVideo } from '../../video/probe.js';
import type { ServerLimits } from '../context.js';
import type { VideoParams } from '../jobs.js';
import { apiMessage, HttpError } from '../params.js';
import type { UploadPart } from '../upload-reader.js';

const WHAT = 'the content video';

/** The clip of a video job checked against the server's limits; rejects with an HttpError(400). */
export async function checkVideoUpload(f: UploadPart | undefined, p: VideoParams, limits: Pick<ServerLimits, 'maxVideoSeconds' | 'maxVideoPixels'>): Promise<Clip> {
  if (!f || f.bytes === 0) throw new HttpError(400, 'mode=video needs a clip: a multipart file field named "content" (MP4, WebM, MOV, MKV, GIF, ...)');
  const { maxVideoSeconds: maxS, maxVideoPixels: maxPx } = limits;
  try {
    // the header first: a clip too large is refused before its frames are counted
    const info = await probeVideo(f.path, WHAT);
    if (info.width * info.height > maxPx) {
      throw new HttpError(400, `${WHAT} is ${info.width}x${info.height}, more than this server's limit of ${maxPx} pixels a frame; scale it down first (e.g. ffmpeg -vf scale=-2:720)`);
    }
    return await openClip({ file: f.path, what: WHAT, size: p.size, start: p.start, duration: p.duration, fps: p.fps, maxDuration: maxS });
  } catch (e) {
    if (!(e instanceof StyleloomError)) throw e;
    // the library's limit is this server's here: say so, not which CLI option raises it
    if (e.template?.includes('{maxDuration}')) throw new HttpError(400, `${WHAT} is longer than this server's limit of ${maxS} s; cut it shorter, or send start and duration`);
    throw new HttpError(400, apiMessage(e));
  }
}
