// What the server can run: the VGG-19 weights (resolved as the CLI does, read header-only for the
// layer list) and the fast-style networks in a models folder.
import path from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { StyleloomError } from '../errors.js';
import { readSafetensors } from '../model/safetensors.js';
import { VGG19_LAYERS } from '../model/vgg19.js';
import { resolveWeightsPath } from '../model/weights.js';
import type { VggInfo } from './api-types.js';

export type { VggInfo } from './api-types.js';

export { PACKAGE_ROOT } from '../util/package-root.js';


export { listFastModels, type FastModelInfo } from '../fast/catalog.js';

/** The weights the server uses (--weights, STYLELOOM_WEIGHTS, the cache), read header-only. */
export async function describeVgg(weights?: string): Promise<{ vgg: VggInfo | null; error?: string }> {
  try {
    const file = path.resolve(resolveWeightsPath({ flag: weights }));
    const st = await readSafetensors(file, { include: () => false });
    const layers = VGG19_LAYERS.filter((l) => l.kind === 'conv' && st.entries.has(`features.${l.index}.weight`)).map((l) => l.name);
    if (layers.length === 0) throw new StyleloomError('E_WEIGHTS', `${file}: has no VGG-19 conv layers`);
    const has = (n: string) => layers.includes(n);
    return {
      vgg: {
        path: file,
        layers,
        preprocess: st.metadata.preprocess,
        defaultContentLayers: [has('conv4_2') ? 'conv4_2' : 'conv3_2'],
        defaultStyleLayers: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'].filter(has),
      },
    };
  } catch (e) {
    return { vgg: null, error: withoutPaths(e instanceof Error ? e.message : String(e)) };
  }
}

/** `s` with each absolute path cut to its last name: what clients see of the server's files. */
export function withoutPaths(s: string): string {
  return s.replace(/(?<![\w.])(?:\/[^\s/:;,()'"]+)+\/?/g, (p) => path.basename(p) || '/');
}

/** Where fast models are looked for: the option, STYLELOOM_FAST_MODELS, else ../shared/assets/fast-style beside the repository. */
export function defaultFastModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STYLELOOM_FAST_MODELS || path.resolve(PACKAGE_ROOT, '..', 'shared', 'assets', 'fast-style');
}
