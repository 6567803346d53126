// Working sizes of images (browser-safe): the output size for a given long side, aspect kept, rounded
// like Python's round, as the peer resizes.
import { roundHalfEven } from './caffe.js';

/** Output size for a long side of `longSide`, aspect kept, sides rounded like Python's round. */
export function longSideDims(width: number, height: number, longSide: number): { width: number; height: number } {
  const s = longSide / Math.max(width, height);
  return { width: Math.max(1, roundHalfEven(width * s)), height: Math.max(1, roundHalfEven(height * s)) };
}
