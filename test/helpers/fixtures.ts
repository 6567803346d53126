// Reads the golden fixtures of ../shared/fixtures (index.json + raw float32 files) and compares arrays
// with the tolerance metric of its README (max |a - ref| / max |ref|).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run from dist/test/...). */
export const ROOT = path.resolve(here, '..', '..', '..');
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const ASSETS = path.join(SHARED, 'assets');
export const VGG_PARTIAL = path.join(ASSETS, 'models', 'vgg19-conv1_1-conv3_4.safetensors');

export function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export interface Fixture {
  dir: string;
  index: any;
  array(name: string): { data: Float32Array; shape: number[] };
}

export function loadFixture(name: 'tiny' | 'vgg'): Fixture {
  const dir = path.join(FIXTURES, name);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  return {
    dir,
    index,
    array(key) {
      const a = index.arrays[key];
      if (!a) throw new Error(`fixture ${name} has no array ${key}`);
      return { data: readF32(path.join(dir, a.file)), shape: a.shape };
    },
  };
}

/** max |a - ref| / max |ref| (the fixtures README's array metric). */
export function maxRelErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length ${a.length} vs ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let k = 0; k < a.length; k++) {
    num = Math.max(num, Math.abs(a[k] - ref[k]));
    den = Math.max(den, Math.abs(ref[k]));
  }
  return num / den;
}

export function relErr(a: number, ref: number): number {
  return Math.abs(a - ref) / Math.abs(ref);
}
