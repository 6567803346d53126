// The execution providers a runtime session can use (browser-safe: no onnxruntime import here).

export const DEVICE_KINDS = ['cpu', 'cuda'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
