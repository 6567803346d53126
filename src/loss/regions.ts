// Spatial guidance of the style loss (Gatys et al. 2017, guided Gram matrices): a region's mask carried
// down to each VGG layer (a 2x2 average per pooling, floor mode, so it has the feature map's size) and
// the Gram normalisation of a region, C·Σm² (the plain Gram's C·H·W when the mask is all ones).

/** A mask: one value in [0, 1] per pixel, row-major (1 = this region / stylise, 0 = not). */
export interface MaskPlane {
  data: Float32Array;
  width: number;
  height: number;
}

/** The regions of the image the style loss is guided by: one mask per region (at the image's size) and its weight. */
export interface StyleRegions {
  masks: MaskPlane[];
  weights: number[];
}

/** 2x2 average, floor mode (an odd last row/column dropped), as AvgPool2 on the features. */
export function halveMask(m: MaskPlane): MaskPlane {
  const width = Math.floor(m.width / 2);
  const height = Math.floor(m.height / 2);
  const data = new Float32Array(width * height);
  for (let i = 0; i < height; i++)
    for (let j = 0; j < width; j++) {
      const p = 2 * i * m.width + 2 * j;
      data[i * width + j] = (m.data[p] + m.data[p + 1] + m.data[p + m.width] + m.data[p + m.width + 1]) / 4;
    }
  return { data, width, height };
}

/** The mask after `pools` 2x2 poolings: at the resolution of a conv layer with that many pools before it. */
export function maskAfterPools(m: MaskPlane, pools: number): MaskPlane {
  let out = m;
  for (let k = pools; k > 0; k--) out = halveMask(out);
  return out;
}

/** Σ m² of a mask (the guided Gram's normalisation over C). */
export function maskEnergy(m: MaskPlane): number {
  let s = 0;
  for (const v of m.data) s += v * v;
  return s;
}
