// The styleloom library API: stylize() and the types and building blocks under it.
export { stylize } from './transfer/stylize.js';
export { readStateFile, writeStateFile, parseState, serializeState, STATE_VERSION } from './transfer/state-file.js';
export { resumeOptions, statePathFor } from './transfer/resume.js';
export { renderGrid, gridLayout, cellOrigin, fitToCell, gridProvenance, type GridOptions, type GridHooks, type GridCellEvent, type GridLayout } from './transfer/grid.js';
export type { StylizeOptions, StylizeHooks, StylizeResult, ProgressEvent, LossTerms, ImageSource, ResumeState, StateReason, StateOptions } from './transfer/types.js';
export type { RgbImage } from './image/types.js';
export { StyleloomError, type ErrorCode } from './errors.js';
export { readImage, writeImage, encodeImage } from './image/io.js';
export { downloadWeights } from './model/download.js';
export { loadVggWeights } from './model/vgg19-file.js';
export { fastStylize, fastStylizeBatch, loadFastModel, type FastStylizeOptions, type LoadedFastModel } from './fast/stylize-fast.js';
export { loadFastCheckpoint, type FastCheckpoint, type FastLayer } from './fast/checkpoint.js';
export { stylizeAudio, resolveAudioOptions } from './audio/stylize-audio.js';
export { readSound, writeSound, readSoundMetadata, peakNormalise, type Sound, type SoundSource } from './audio/sound-io.js';
export type { AudioOptions, AudioHooks, AudioProgressEvent, AudioResult, AudioLoss, Spectrogram } from './audio/types.js';
export { stylizeVideo, resolveVideoOptions } from './video/stylize-video.js';
export type { VideoOptions, VideoHooks, VideoProgressEvent, VideoResult, FrameLoss } from './video/types.js';
export { createServer, startRedisWorker, type RedisWorker, type RedisWorkerOptions, DiskJobStore, LocalJobQueue, QueueFullError, type ServerOptions, type StyleloomServer, type JobQueue, type JobStore, type JobRunner, type JobEvent } from './server/index.js';
