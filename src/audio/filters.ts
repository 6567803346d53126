// The random filter bank of the audio loss, made exactly as the peer makes it: filters x bins x width
// normals from the seeded generator times sqrt(2) sqrt(2 / ((bins + filters) width)), rounded to float32.
import { PeerNormals } from './normals.js';

export interface FilterBank {
  filters: number;
  bins: number;
  width: number;
  /** [filters, bins, 1, width]: a Conv weight of height 1 (OIHW). */
  weight: Float32Array;
}

/** The peer's scale of a bank: sqrt(2) * sqrt(2 / ((bins + filters) * width)). */
export const filterScale = (bins: number, filters: number, width: number): number => Math.SQRT2 * Math.sqrt(2 / ((bins + filters) * width));

/**
 * One bank per width, drawn one after the other from the generator of `seed` (with one width: the
 * peer's bank). Returns the banks and the generator, positioned after them (the noise init's numbers).
 */
export function filterBanks(seed: number, bins: number, filters: number, widths: readonly number[]): { banks: FilterBank[]; rest: PeerNormals } {
  const rest = new PeerNormals(seed);
  const banks = widths.map((width) => {
    const weight = rest.fill(new Float32Array(filters * bins * width), filterScale(bins, filters, width));
    return { filters, bins, width, weight };
  });
  return { banks, rest };
}
