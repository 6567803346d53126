// Colour control for style transfer (Gatys et al., "Preserving colour in neural artistic style
// transfer"): keep the content's chroma under the stylised luminance, or match the style image's
// colour mean and covariance to the content's before transfer.
import type { RgbImage } from './types.js';

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** BT.601 full-range luma and chroma (JPEG's YCbCr). */
export function rgbToYcbcr(r: number, g: number, b: number): [number, number, number] {
  return [
    0.299 * r + 0.587 * g + 0.114 * b,
    128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  ];
}

export function ycbcrToRgb(y: number, cb: number, cr: number): [number, number, number] {
  return [y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), y + 1.772 * (cb - 128)];
}

/** Luminance of `stylised` with the chroma of `content` (same size). */
export function preserveColors(stylised: RgbImage, content: RgbImage): RgbImage {
  if (stylised.width !== content.width || stylised.height !== content.height) {
    throw new Error(`preserveColors: sizes differ (${stylised.width}x${stylised.height} vs ${content.width}x${content.height})`);
  }
  const out = new Uint8Array(stylised.data.length);
  for (let k = 0; k < out.length; k += 3) {
    const [y] = rgbToYcbcr(stylised.data[k], stylised.data[k + 1], stylised.data[k + 2]);
    const [, cb, cr] = rgbToYcbcr(content.data[k], content.data[k + 1], content.data[k + 2]);
    const [r, g, b] = ycbcrToRgb(y, cb, cr);
    out[k] = clip8(r);
    out[k + 1] = clip8(g);
    out[k + 2] = clip8(b);
  }
  return { data: out, width: stylised.width, height: stylised.height };
}

/** Mean (3) and covariance (3x3, row-major) of an image's RGB values. */
export function colorStats(img: RgbImage): { mean: number[]; cov: number[] } {
  const n = img.width * img.height;
  const mean = [0, 0, 0];
  for (let k = 0; k < img.data.length; k++) mean[k % 3] += img.data[k] / n;
  const cov = new Array(9).fill(0);
  for (let k = 0; k < img.data.length; k += 3) {
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) cov[i * 3 + j] += ((img.data[k + i] - mean[i]) * (img.data[k + j] - mean[j])) / n;
  }
  return { mean, cov };
}

/** Eigen-decomposition of a symmetric 3x3 matrix by Jacobi rotations: A = V diag(w) Vᵀ. */
function eigSym3(a: number[]): { w: number[]; v: number[] } {
  const m = a.slice();
  const v = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = m[1] ** 2 + m[2] ** 2 + m[5] ** 2;
    if (off < 1e-20) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const apq = m[p * 3 + q];
      if (Math.abs(apq) < 1e-30) continue;
      const theta = (m[q * 3 + q] - m[p * 3 + p]) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        // rotate columns p, q of m, then rows p, q
        const mkp = m[k * 3 + p], mkq = m[k * 3 + q];
        m[k * 3 + p] = c * mkp - s * mkq;
        m[k * 3 + q] = s * mkp + c * mkq;
      }
      for (let k = 0; k < 3; k++) {
        const mpk = m[p * 3 + k], mqk = m[q * 3 + k];
        m[p * 3 + k] = c * mpk - s * mqk;
        m[q * 3 + k] = s * mpk + c * mqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k * 3 + p], vkq = v[k * 3 + q];
        v[k * 3 + p] = c * vkp - s * vkq;
        v[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  return { w: [m[0], m[4], m[8]], v };
}

/** V f(diag w) Vᵀ for a symmetric matrix given by its eigen-decomposition. */
function matFn(a: number[], f: (x: number) => number): number[] {
  const { w, v } = eigSym3(a);
  const out = new Array(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j] += v[i * 3 + k] * f(Math.max(w[k], 1e-6)) * v[j * 3 + k];
  return out;
}

/**
 * The style image with its colours moved to the content's statistics: x' = A (x - μ_s) + μ_c with
 * A = Σ_c^½ Σ_s^-½, so that x' has the content's mean and covariance (up to 8-bit rounding and clipping).
 */
export function matchColors(style: RgbImage, content: RgbImage): RgbImage {
  const s = colorStats(style);
  const c = colorStats(content);
  const cHalf = matFn(c.cov, Math.sqrt);
  const sInvHalf = matFn(s.cov, (x) => 1 / Math.sqrt(x));
  const a = new Array(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) a[i * 3 + j] += cHalf[i * 3 + k] * sInvHalf[k * 3 + j];
  const out = new Uint8Array(style.data.length);
  for (let k = 0; k < out.length; k += 3) {
    const d = [style.data[k] - s.mean[0], style.data[k + 1] - s.mean[1], style.data[k + 2] - s.mean[2]];
    for (let i = 0; i < 3; i++) out[k + i] = clip8(c.mean[i] + a[i * 3] * d[0] + a[i * 3 + 1] * d[1] + a[i * 3 + 2] * d[2]);
  }
  return { data: out, width: style.width, height: style.height };
}
