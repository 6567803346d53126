// The multipart file fields that carry masks (issue 17): "mask" (both modes), "style_mask" and
// "style_region" (one per style, Gatys mode).
export const MASK_FIELDS = ['mask', 'style_mask', 'style_region'] as const;
export type MaskField = (typeof MASK_FIELDS)[number];
export const isMaskField = (s: string): s is MaskField => (MASK_FIELDS as readonly string[]).includes(s);
