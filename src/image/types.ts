// Plain image and tensor types shared by every module (no dependencies).

/** 8-bit RGB pixels, interleaved, row-major: data[(y*width + x)*3 + c]. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A float32 NCHW tensor with N = 1 unless stated (Caffe space for images: BGR, 0..255 minus mean). */
export interface Tensor4 {
  data: Float32Array;
  shape: [number, number, number, number];
}
