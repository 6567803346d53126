// Loads VGG-19 conv weights from a safetensors file on disk (node): only the `features.*` tensors are
// read; checks and layout are vgg19.ts's.
import { readSafetensors } from './safetensors.js';
import { vggWeightsFrom, type VggWeights } from './vgg19.js';

/**
 * Loads the VGG-19 conv weights (`features.N.*`) from a safetensors file; anything else in the
 * file (e.g. a classifier) is checked but not loaded.
 */
export async function loadVggWeights(path: string): Promise<VggWeights> {
  return vggWeightsFrom(await readSafetensors(path, { include: (n) => n.startsWith('features.') }), path);
}
