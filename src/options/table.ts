// The option table: every option of every job, declared once (key, kind, range or choices, default,
// one line of help, jobs). The library's types and validation, the CLI flags, the API fields, the
// OpenAPI schema, the web page's controls and the README's flag table are all read off it.
// Browser-safe: imports only other browser-safe modules.
import { POOL_KINDS } from '../loss/types.js';
import { LINE_SEARCHES, OPTIMIZER_KINDS } from '../optim/types.js';
import { DEVICE_KINDS } from '../runtime/device.js';
import { NETWORK_WIDTHS, PADDING_KINDS, UPSAMPLE_KINDS } from '../train/architecture.js';
import type { Row } from './types.js';

/** Largest output side accepted (a 16384² image needs ~50 GB of activations at conv1). */
export const MAX_SIZE = 8192;
export const MAX_ITERS = 1_000_000;
/** What the audio job reads (its content and style docs). */
const SOUND_IN = 'WAV read directly; FLAC, MP3, OGG, M4A through ffmpeg; mixed to mono, resampled to {sr}';

export const OPTION_ROWS = [
  // ---- inputs and output ----
  {
    key: 'content', required: true, kind: 'image', jobs: ['image', 'fast', 'grid', 'audio', 'video', 'score'], arg: 'file',
    doc: 'content image (the photo to repaint); required',
    jobsVary: { video: { doc: 'content video (MP4, WebM, MOV, MKV, GIF, ... through ffmpeg); required' },
      fast: { many: true, required: true, doc: 'image(s) to repaint; repeat the flag or list several' }, grid: { many: true, required: true, doc: 'content images, one row each' },
      audio: { doc: `content sound (${SOUND_IN}); required unless {texture}` },
      score: { doc: 'content image the content loss is measured against; required' },
    },
  },
  {
    key: 'styles', required: true, flag: 'style', field: 'style', kind: 'images', jobs: ['image', 'grid', 'audio', 'video', 'score', 'train'], arg: 'file', many: true,
    doc: 'style image(s); repeat the flag or list several; required',
    jobsVary: { video: { doc: 'style image(s); several: their Grams blended equally; required unless {mode} fast' }, grid: { doc: 'style images, one column each (gatys); with {mode} fast, optional header images, one per model' }, audio: { doc: `style sound(s) (${SOUND_IN}); several: their Grams averaged; required` }, score: { doc: 'style image(s) the style loss is measured against (several: their Grams blended); required' },
      train: { many: false, doc: 'the style image the network learns (its Grams at {size}); required unless {resume}' } },
  },
  {
    key: 'image', required: true, kind: 'image', jobs: ['score'], arg: 'file',
    doc: 'the image to score (a result of any method, or a photo), resized to the content\'s working size as {init} FILE is; required',
  },
  {
    key: 'images', kind: 'path', jobs: ['train'], arg: 'dir', api: false,
    doc: 'folder of training photos, read recursively (any format sharp reads; unreadable files are skipped with a warning); required unless {resume}',
  },
  // ---- spatial control: masks (Gatys et al. 2017, guided Gram matrices) ----
  {
    key: 'mask', kind: 'image', jobs: ['image', 'fast'], arg: 'file',
    doc: "where to stylise: white = stylise, black = keep the content, grey = soft edge (or the PNG's alpha); of the content's aspect ratio, resized to it",
    jobsVary: { fast: { doc: "where to apply the network: its output composited over the content with this mask (white = stylised; the PNG's alpha also works)" } },
  },
  {
    key: 'styleMasks', flag: 'style-mask', field: 'style_mask', kind: 'images', jobs: ['image'], arg: 'file', many: true,
    doc: 'one mask per {styles}, in order: where on the content each style goes (guided Grams); uncovered pixels keep the content',
  },
  {
    key: 'styleRegions', flag: 'style-region', field: 'style_region', kind: 'images', jobs: ['image'], arg: 'file', many: true,
    doc: 'one mask per {styles}, in order, of that style image\'s shape: the part of it to take the style from (white), e.g. the sky of a painting',
  },
  {
    key: 'maskMode', kind: 'choice', choices: ['guided', 'blend'], jobs: ['image'], arg: 'mode', default: 'guided',
    doc: 'with {mask}: guided (each region matched to its own style by guided Gram matrices) or blend (stylise everywhere, then composite with the feathered mask: cheaper, with halos where strokes cross the edge)',
    example: 'blend',
  },
  {
    key: 'out', resumable: true, kind: 'path', jobs: ['image', 'fast', 'grid', 'audio', 'video', 'train'], arg: 'file', cliOnly: true, api: false, default: 'out.png',
    doc: 'output image (.png, .jpg or .webp), written to a temporary name, then renamed',
    jobsVary: { video: { default: 'out.mp4', doc: 'output video: .mp4 (H.264, yuv420p, the source\'s sound as AAC), .webm (VP9, Opus), .gif or .webp (animated); written to a temporary name, then renamed' },
      fast: { noDefault: true, required: true, doc: 'output file (.png, .jpg or .webp) for one image, or an existing directory (<name>.png each)' },
      grid: { default: 'grid.png', doc: 'output sheet (.png, .jpg or .webp)' },
      audio: { default: 'out.wav', doc: 'output sound (.wav, .flac or .mp3), peak-normalised, written to a temporary name, then renamed' },
      train: { noDefault: true, doc: 'the network file to write (.safetensors: weights and metadata), written to a temporary name, then renamed; required unless {resume}' },
    },
  },
  {
    key: 'model', kind: 'string', jobs: ['fast', 'grid', 'video'], arg: 'dir',
    doc: 'feed-forward style network: a model folder (manifest.json + Variable files) or a name under $STYLELOOM_FAST_MODELS (on the API: a name from /api/models)',
    jobsVary: { video: { doc: 'with {mode} fast: the feed-forward style network (a model folder or a name under $STYLELOOM_FAST_MODELS)' }, fast: { required: true }, grid: { many: true, doc: 'with {mode} fast: one model folder (or name under $STYLELOOM_FAST_MODELS) per column' } },
    example: 'wave',
  },
  // ---- what the optimisation does ----
  {
    key: 'styleBlendWeights', kind: 'numbers', jobs: ['image', 'score'], arg: 'list', min: 0, entry: 'blend weight',
    doc: 'comma-separated weight per style, normalised to sum 1 (default: equal)', example: [2],
  },
  {
    key: 'size', kind: 'int', jobs: ['image', 'fast', 'grid', 'video', 'score', 'train'], arg: 'px', min: 16, max: MAX_SIZE, default: 512,
    doc: 'long side of the output and of each style image, px',
    jobsVary: { video: { noDefault: true, min: 16, doc: "long side of the frames, px, rounded to even sides (default: the clip's, at most 512)" }, fast: { noDefault: true, min: 2, doc: 'long side of the output, px (default: the input size)' }, grid: { default: 128, doc: 'cell width, px' },
      train: { default: 256, doc: 'side of the square training crops and long side of the style image, px' } },
    page: { min: 128, max: 1024, step: 32 }, example: 32,
  },
  {
    key: 'iters', resumable: true, kind: 'int', jobs: ['image', 'grid', 'audio', 'video', 'train'], arg: 'n', min: 1, max: MAX_ITERS, default: 300,
    doc: 'iterations (one loss+gradient evaluation each), per scale',
    jobsVary: { video: { doc: 'iterations of the first frame (L-BFGS; the later frames: {frameIters})' }, grid: { default: 100, doc: 'iterations per cell (gatys)' }, audio: { doc: 'L-BFGS iterations (one loss+gradient evaluation each)' },
      train: { default: 2000, doc: 'training steps (one batch and one Adam update each); with {resume}, the new total' } },
    page: { min: 20, max: 1000, step: 10 }, example: 2,
  },
  { key: 'batch', kind: 'int', jobs: ['train'], arg: 'n', min: 1, max: 1024, default: 4, api: false, doc: 'crops per training step', example: 2 },
  { key: 'scales', kind: 'int', jobs: ['image'], arg: 'n', min: 1, max: 12, default: 1, doc: 'coarse-to-fine: optimise at n sizes growing by about √2 up to {size}', example: 2 },
  { key: 'minSize', kind: 'int', jobs: ['image'], arg: 'px', min: 16, max: MAX_SIZE, doc: 'long side of the first scale (default: {size} / √2^(scales-1))', example: 16 },
  { key: 'scaleIters', resumable: true, kind: 'ints', jobs: ['image'], arg: 'list', min: 1, max: MAX_ITERS, doc: 'iterations at each scale, e.g. 300,200,100 (overrides {iters})', example: [2] },
  { key: 'optimizer', kind: 'choice', choices: OPTIMIZER_KINDS, jobs: ['image', 'grid', 'video'], arg: 'name', default: 'lbfgs', doc: 'optimiser', example: 'adam' },
  {
    key: 'lineSearch', kind: 'choice', choices: LINE_SEARCHES, jobs: ['image', 'grid', 'audio'], arg: 'name', default: 'none', example: 'strong-wolfe',
    doc: "L-BFGS step rule: none (the peer's fixed step) or strong-wolfe (torch's line search: no overshoots, every trial point counts as an iteration)",
  },
  { key: 'lr', kind: 'number', jobs: ['image', 'grid', 'video', 'train'], arg: 'x', min: 0, exclusiveMin: true, default: 10, doc: 'Adam learning rate, in 0..255 grey levels', example: 5, jobsVary: { train: { default: 1e-3, doc: "Adam learning rate of the network's weights" } } },
  { key: 'contentWeight', kind: 'number', jobs: ['image', 'grid', 'audio', 'video', 'score', 'train'], arg: 'x', min: 0, default: 1, doc: 'weight of the content loss', example: 2, jobsVary: { audio: { default: 1e-2 } } },
  {
    key: 'styleWeight', kind: 'number', jobs: ['image', 'grid', 'audio', 'video', 'score', 'train'], arg: 'x', min: 0, default: 1e3, doc: 'weight of the style loss', page: { min: 1, max: 5, step: 0.05, log: true }, example: 100,
    jobsVary: { audio: { default: 1 } },
  },
  { key: 'tvWeight', kind: 'number', jobs: ['image', 'grid', 'video', 'score', 'train'], arg: 'x', min: 0, default: 1, doc: 'weight of the total-variation loss', example: 0.5 },
  { key: 'contentLayers', kind: 'layers', jobs: ['image', 'video', 'score', 'train'], arg: 'list', doc: 'content layers, e.g. conv4_2 (default: conv4_2, or conv3_2 if the weights stop before)', example: ['conv2_2'] },
  { key: 'styleLayers', kind: 'layers', jobs: ['image', 'video', 'score', 'train'], arg: 'list', doc: 'style layers (default: those of conv1_1,conv2_1,conv3_1,conv4_1,conv5_1 the weights have)', example: ['conv1_1', 'conv2_1'] },
  {
    key: 'styleScale', kind: 'number', jobs: ['image', 'grid', 'video', 'score'], arg: 'x', min: 0, exclusiveMin: true, default: 1, doc: 'style image size relative to the output',
    jobsVary: { grid: { doc: 'style image size relative to the cell' } }, example: 0.5,
  },
  { key: 'styleLayerWeights', kind: 'numbers', jobs: ['image', 'score'], arg: 'list', min: 0, doc: 'relative weight per style layer, e.g. 1,1,2 (default: equal)', example: [1, 1, 2] },
  { key: 'pool', kind: 'choice', choices: POOL_KINDS, jobs: ['image', 'grid', 'video', 'score', 'train'], arg: 'kind', default: 'max', doc: 'pooling in VGG (Gatys et al. recommend avg)', example: 'avg' },
  {
    key: 'init', kind: 'choice', choices: ['content', 'noise'], orImage: true, jobs: ['image', 'audio'], arg: 'how', default: 'content', doc: 'start from: content, noise, or an image file (of the content\'s aspect ratio; not on the API)', example: 'noise',
    jobsVary: { audio: { doc: "start from the content's spectrogram (content) or from 1e-3 · noise (noise, as Ulyanov & Lebedev)" } },
  },
  { key: 'noiseRatio', kind: 'number', jobs: ['image'], arg: 'r', min: 0, max: 1, default: 1, doc: 'with {init} noise: r·noise + (1−r)·content', example: 0.5 },
  { key: 'ema', kind: 'number', jobs: ['image'], arg: 'decay', min: 0, default: 0, doc: 'average the iterate (exponential moving average, e.g. 0.99; 0 = off) to remove high-frequency noise', example: 0.9 },
  {
    key: 'seed', kind: 'int', jobs: ['image', 'grid', 'audio', 'train'], arg: 'n', min: 0, max: 2 ** 32 - 1, default: 0, doc: 'seed of the noise init (same seed + threads = same bits)', example: 7,
    jobsVary: { audio: { doc: "seed of the random filters and the noise init (the peer's generator: same seed, same filters)" }, train: { doc: 'seed of the initial weights and of the crops (which photo, where, flipped); same seed + threads = same bits' } },
  },
  { key: 'originalColors', kind: 'boolean', jobs: ['image', 'fast', 'grid', 'video'], default: false, doc: "keep the content's colours (stylised luminance, content chroma)", example: true },
  { key: 'colorMatch', kind: 'boolean', jobs: ['image', 'score'], default: false, doc: "match each style image's colour mean/covariance to the content before transfer", example: true },
  // ---- grid layout ----
  { key: 'cellHeight', kind: 'int', jobs: ['grid'], arg: 'px', min: 16, max: MAX_SIZE, doc: 'cell height, px (default: {size}, square cells)' },
  // on the API (mode=video) the engine: there `mode` names the job
  { key: 'mode', field: 'engine', kind: 'choice', choices: ['gatys', 'fast'], jobs: ['grid', 'video'], jobsVary: { video: { doc: 'gatys (optimise every frame, temporally consistent) or fast (a pre-trained network per frame, blended along the flow)' } }, arg: 'mode', default: 'gatys', doc: 'gatys (optimise each cell) or fast (a pre-trained network per column)', example: 'fast' },
  { key: 'fit', kind: 'choice', choices: ['cover', 'contain'], jobs: ['grid'], arg: 'how', default: 'cover', doc: 'cover: crop every image to the cell (what is stylised); contain: letterbox' },
  { key: 'gap', kind: 'int', jobs: ['grid'], arg: 'px', min: 0, max: 1024, default: 0, doc: 'pixels between cells' },
  { key: 'labels', kind: 'boolean', jobs: ['grid'], default: true, negate: true,
    doc: 'label the header and first-column cells with the file names', noDoc: 'no file names on the header and first-column cells' },
  // ---- audio (after Ulyanov & Lebedev 2016; the defaults are the peer's) ----
  { key: 'sr', kind: 'int', jobs: ['audio'], arg: 'hz', min: 1000, max: 384000, default: 22050, doc: 'sample rate the sounds are resampled to and the output has, Hz', example: 8000 },
  { key: 'nFft', kind: 'int', jobs: ['audio'], arg: 'n', min: 16, max: 65536, default: 2048, doc: 'STFT size (a power of two; periodic Hann window, centred, reflect-padded)', example: 256 },
  { key: 'hop', kind: 'int', jobs: ['audio'], arg: 'n', min: 1, max: 65536, default: 512, doc: 'STFT hop, samples (less than {nFft})', example: 64 },
  { key: 'filters', kind: 'int', jobs: ['audio'], arg: 'n', min: 1, max: 65536, default: 4096, doc: 'random filters per bank (one layer, ReLU)', example: 32 },
  {
    key: 'width', kind: 'ints', jobs: ['audio'], arg: 'frames', min: 1, max: 1024, default: [11],
    doc: 'filter width in STFT frames; several (e.g. 3,11,31) make one bank per width, multi-scale in time', example: [3, 5],
  },
  { key: 'glIters', kind: 'int', jobs: ['audio'], arg: 'n', min: 0, max: 100000, default: 500, doc: 'Griffin-Lim iterations (momentum 0.99, phase started from zero)', example: 16 },
  {
    key: 'frontEnd', kind: 'choice', choices: ['linear', 'mel'], jobs: ['audio'], arg: 'kind', default: 'linear',
    doc: "what the filters see: the linear STFT bins (the peer's) or {mels} mel bands (log frequency; a smaller, faster filter bank)", example: 'mel',
  },
  { key: 'mels', kind: 'int', jobs: ['audio'], arg: 'n', min: 4, max: 1024, default: 128, doc: 'mel bands with {frontEnd} mel', example: 64 },
  {
    key: 'phaseInit', kind: 'choice', choices: ['zero', 'content'], jobs: ['audio'], arg: 'from', default: 'zero',
    doc: "Griffin-Lim's starting phase: zero (the peer's) or the content's own STFT phase", example: 'content',
  },
  { key: 'texture', kind: 'number', jobs: ['audio'], arg: 'seconds', min: 0, exclusiveMin: true, max: 3600, doc: "synthesise this many seconds of the style's texture from noise (no {content})", example: 1.5 },
  { key: 'maxDuration', kind: 'number', jobs: ['audio', 'video'], jobsVary: { video: { doc: 'longest part of a clip accepted ({duration}, or from {start} to the end), seconds' } }, arg: 'seconds', min: 0, exclusiveMin: true, default: 600, api: false, doc: 'longest sound accepted (and {texture} made), seconds', example: 30 },
  { key: 'sampleFormat', kind: 'choice', choices: ['s16', 'f32'], jobs: ['audio'], arg: 'format', default: 's16', doc: 'WAV output samples: 16-bit PCM or 32-bit float', example: 'f32' },
  { key: 'spectrogram', kind: 'path', jobs: ['audio'], arg: 'png', cliOnly: true, api: false, doc: 'also write a PNG of the content, style and result spectrograms side by side, labelled' },
  // ---- video (after Ruder et al. 2016; optical flow: Farnebäck from OpenCV.js) ----
  { key: 'frameIters', kind: 'int', jobs: ['video'], arg: 'n', min: 1, max: MAX_ITERS, default: 100, doc: 'iterations of every frame after the first (each starts from the previous result warped along the flow)', page: { min: 10, max: 500, step: 10 }, example: 3 },
  {
    key: 'temporalWeight', kind: 'number', jobs: ['video'], arg: 'x', min: 0, default: 1e2,
    doc: "weight of the temporal loss mean(c·(x − warped previous result)²), c the flow's consistency mask (Caffe units, 0..255)", example: 10,
  },
  {
    key: 'temporal', kind: 'boolean', jobs: ['video'], default: true, negate: true,
    doc: 'temporal consistency: warm starts along the flow, the temporal loss (gatys) or the flow blend (fast)',
    noDoc: 'stylise every frame on its own (no flow, no temporal loss, no blend: the baseline flicker is measured against)',
  },
  {
    key: 'blendWeight', kind: 'number', jobs: ['video'], arg: 'w', min: 0, max: 1, default: 0.5,
    doc: "with {mode} fast: weight of the previous output warped along the flow, on the consistency mask's reliable pixels (0 = the network's output alone)", example: 0.3,
  },
  {
    key: 'flowScale', kind: 'number', jobs: ['video'], arg: 'x', min: 0.25, max: 1,
    doc: 'temporal consistency: the optical flow is computed on frames scaled by x, then resized back (default: 0.5 with {mode} fast, where it makes the flow 2.6x faster and flickers no more, bench/RESULTS-video.md; 1, the working size, in optimisation mode)', example: 0.75,
  },
  {
    key: 'longTerm', kind: 'ints', jobs: ['video'], arg: 'list', min: 1, max: 30, default: [1],
    doc: 'earlier frames each frame is tied to, e.g. 1,2,4 (long-term consistency, Ruder et al.: each pixel follows the nearest of them where it is visible; one more flow pair per entry)', example: [1, 2],
  },
  { key: 'start', kind: 'number', jobs: ['video'], arg: 'seconds', min: 0, default: 0, doc: 'where in the clip to begin, seconds', example: 0.5 },
  { key: 'duration', kind: 'number', jobs: ['video'], arg: 'seconds', min: 0, exclusiveMin: true, doc: 'how many seconds to stylise from {start} (default: to the end)', example: 2 },
  { key: 'fps', kind: 'number', jobs: ['video'], arg: 'rate', min: 0, exclusiveMin: true, max: 240, doc: "resample to this frame rate (default: the clip's own, constant)", example: 12 },
  {
    key: 'resumeFrames', flag: 'resume', kind: 'boolean', jobs: ['video'], api: false, default: false,
    doc: 'continue an interrupted run at the next frame: the finished frames are kept in <out>.frames/ beside the output until the video is written',
  },
  // ---- training a feed-forward network (Johnson et al. 2016) ----
  {
    key: 'networkWidth', flag: 'width', kind: 'choice', choices: NETWORK_WIDTHS, jobs: ['train'], arg: 'width', default: 'half', api: false,
    doc: 'channel width of the network: full (32/64/128, as Johnson et al.) or half (16/32/64: about 2.5x faster to train and run)', example: 'full',
  },
  {
    key: 'lrHalfLife', kind: 'number', jobs: ['train'], arg: 'steps', min: 0, default: 0, api: false,
    doc: 'learning-rate schedule: {lr} halves every this many iterations, smoothly (lr · 0.5^((i−1)/steps) at iteration i; 0 = constant); the same at any {iters}, so a run continued with a larger {iters} goes on along it', example: 300,
  },
  {
    key: 'cropScale', kind: 'number', jobs: ['train'], arg: 'x', min: 0.1, max: 1, default: 1, api: false,
    doc: "smallest share of a photo's short side one training crop covers: each crop's side is drawn in [x, 1] of it, then scaled to {size} (1: the whole short side; lower: more, closer crops from few photos)", example: 0.4,
  },
  {
    key: 'stabilityWeight', kind: 'number', jobs: ['train'], arg: 'x', min: 0, default: 0, api: false,
    doc: 'weight of the stability term for video (0 = off): each step also runs the crops with Gaussian noise of {stabilityNoise} grey levels through the network and adds x · mean((f(noisy) − f(crop))²) over the output pixels (0..255); about doubles the network part of a step', example: 1,
  },
  {
    key: 'stabilityNoise', kind: 'number', jobs: ['train'], arg: 'std', min: 0, exclusiveMin: true, max: 128, default: 8, api: false,
    doc: 'with {stabilityWeight}: standard deviation of the noise added to the crops, grey levels of 0..255 (the noisy crop clipped to 0..255)', example: 4,
  },
  {
    key: 'padding', kind: 'choice', choices: PADDING_KINDS, jobs: ['train'], arg: 'kind', default: 'reflect', api: false,
    doc: "how the network's convolutions pad their borders: reflect (mirror the border: no dark frame or bright corner blobs) or zero (as the demo networks)", example: 'zero',
  },
  {
    key: 'upsample', kind: 'choice', choices: UPSAMPLE_KINDS, jobs: ['train'], arg: 'kind', default: 'resize', api: false,
    doc: "the network's two x2 upsamplings: resize (nearest x2, then a 3x3 conv: no checkerboard) or transposed (stride-2 transposed convs, as the demo networks)", example: 'transposed',
  },
  {
    key: 'preview', resumable: true, kind: 'path', jobs: ['train'], arg: 'photo', api: false,
    doc: 'a photo to repaint with the network being trained: <out>_0050.png, ... beside the output, every {saveEvery} iterations',
  },
  // ---- where and how it runs (the host's settings: not API fields) ----
  { key: 'weights', resumable: true, kind: 'path', jobs: ['image', 'grid', 'video', 'score', 'train'], arg: 'file', api: false, doc: 'VGG-19 safetensors (default: $STYLELOOM_WEIGHTS, then the cache)' },
  { key: 'tile', resumable: true, kind: 'int', jobs: ['image'], arg: 'px', min: 0, max: MAX_SIZE, api: false, doc: 'evaluate in tiles of this size to fit large images in memory (same result); 0 = never (default: 768 above 1.5 megapixels)' },
  { key: 'threads', resumable: true, kind: 'int', jobs: ['image', 'fast', 'grid', 'audio', 'video', 'score', 'train'], arg: 'n', min: 1, max: 1024, api: false, doc: 'CPU threads (default: number of cores)' },
  { key: 'device', resumable: true, kind: 'choice', choices: DEVICE_KINDS, jobs: ['image', 'fast', 'grid', 'audio', 'video', 'score', 'train'], arg: 'name', default: 'cpu', api: false, doc: 'execution provider (cuda needs ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci)' },
  {
    key: 'saveEvery', resumable: true, kind: 'int', jobs: ['image', 'train'], arg: 'n', min: 0, max: MAX_ITERS, default: 0, api: false, doc: 'write a numbered preview (out_0050.png, ...) and the resumable state (<out>.state) every n iterations (0 = never)',
    jobsVary: { train: { default: 500, doc: 'write a checkpoint (<out name>.ckpt.safetensors: weights, Adam moments, RNG, iteration) and the {preview} every n iterations (0 = only when interrupted)' } },
  },
  // ---- CLI output ----
  { key: 'printEvery', resumable: true, kind: 'int', jobs: ['image', 'audio', 'video', 'train'], jobsVary: { video: { default: 1, doc: 'without a terminal: print a progress line every n frames (0 = never)' }, train: { default: 10 } }, arg: 'n', min: 0, max: MAX_ITERS, default: 50, cliOnly: true, api: false, doc: 'without a terminal: print a progress line every n iterations (0 = never)' },
  { key: 'json', resumable: true, kind: 'boolean', jobs: ['image', 'fast', 'grid', 'audio', 'video', 'score', 'train'], cliOnly: true, api: false, default: false, doc: 'print one JSON line of results on stdout', jobsVary: { train: { doc: 'print one JSON line on stdout at the end: loss_history, images_per_s, out' } } },
  {
    key: 'metadata', resumable: true, kind: 'boolean', jobs: ['image', 'fast', 'grid', 'audio', 'video'], cliOnly: true, api: false, default: true, negate: true,
    doc: 'embed provenance (software, parameters, input SHA-256, attribution) in the output',
    noDoc: 'do not embed provenance (software, parameters, input SHA-256, attribution) in the output',
  },
  {
    key: 'resume', resumable: true, kind: 'path', jobs: ['image', 'train'], arg: 'state', cliOnly: true, api: false, doc: 'continue a run from its state file (<out>.state, written with {saveEvery}); {iters} sets the new total',
    jobsVary: { train: { doc: 'continue training from a checkpoint (<out name>.ckpt.safetensors) bit for bit, with its options; {iters} sets the new total' } },
  },
] as const satisfies readonly Row[];

export type OptionRows = typeof OPTION_ROWS;
export type OptionKey = OptionRows[number]['key'];

const BY_KEY = new Map<string, Row>(OPTION_ROWS.map((r) => [r.key, r]));

/** The row of `key`; throws on a key the table does not have (a bug). */
export function rowOf(key: string): Row {
  const r = BY_KEY.get(key);
  if (!r) throw new Error(`option table: no row ${key}`);
  return r;
}
