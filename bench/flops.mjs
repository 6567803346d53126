// FLOPs of one styleloom iteration, counted from the IR loss graph (forward, backward, loss terms).
// One "flop" is one floating-point add or multiply (a fused multiply-add counts 2).
//
//   Conv      2*Cout*Cin*kh*kw*Hout*Wout (+ Cout*Hout*Wout for a bias). Backward data-gradient convs
//             are Conv nodes too (named *_dx), so they are counted by the same rule.
//   Gram      2*C*C*HW (one Gemm, no use of symmetry) + C*C for the 1/(CHW) scale.
//   GramGrad  2*C*C*HW (Gemm) + 2*C*C (dG + dGᵀ, scale).
//   others    ~1 flop per element touched (Mse 3/elem, MseGrad 2/elem, Tv and TvGrad 6/elem).
//
// Usage as a script: node bench/flops.mjs [--size 256] [--weights W]  (needs dist/, see run.mjs)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..');
const dist = (p) => pathToFileURL(path.join(REPO, 'dist', 'src', p)).href;

const numel = (shape) => shape.reduce((p, d) => p * d, 1);

/** FLOPs of one node of the IR graph, and the bucket it is reported under. */
export function nodeFlops(node) {
  const out = node.outputs[0];
  const [a] = node.inputs;
  switch (node.op) {
    case 'Conv': {
      const [, w, b] = node.inputs;
      const [co, ci, kh, kw] = w.shape;
      const [, , ho, wo] = out.shape;
      const flops = 2 * co * ci * kh * kw * ho * wo + (b ? co * ho * wo : 0);
      return { kind: out.name.endsWith('_dx') ? 'conv_backward' : 'conv_forward', flops };
    }
    case 'Gram': {
      const [, c, h, w] = a.shape;
      return { kind: 'gram', flops: 2 * c * c * h * w + c * c };
    }
    case 'GramGrad': {
      const [, c, h, w] = node.inputs[1].shape;
      return { kind: 'gram', flops: 2 * c * c * h * w + 2 * c * c };
    }
    case 'Mse':
      return { kind: 'elementwise', flops: 3 * numel(a.shape) };
    case 'MseGrad':
      return { kind: 'elementwise', flops: 2 * numel(a.shape) };
    case 'Tv':
    case 'TvGrad':
      return { kind: 'elementwise', flops: 6 * numel(a.shape) };
    case 'MaxPool2':
    case 'AvgPool2':
      return { kind: 'elementwise', flops: numel(a.shape) };
    default: // Relu, ReluGrad, MaxUnpool2, AvgPool2Grad, Scale, Add
      return { kind: 'elementwise', flops: numel(out.shape) };
  }
}

/** Walks graph.nodes and sums FLOPs per bucket. */
export function graphFlops(graph) {
  const by = { conv_forward: 0, conv_backward: 0, gram: 0, elementwise: 0 };
  const ops = {};
  for (const node of graph.nodes) {
    const { kind, flops } = nodeFlops(node);
    by[kind] += flops;
    ops[node.op] = (ops[node.op] ?? 0) + 1;
  }
  const total = by.conv_forward + by.conv_backward + by.gram + by.elementwise;
  return { total, ...by, nodes: graph.nodes.length, ops };
}

/**
 * Builds styleloom's loss graph for an image of height x width with the given (or default) layers,
 * exactly as stylize() does, and counts its FLOPs.
 */
export async function lossGraphFlops({ weightsPath, height, width, contentLayers, styleLayers, pool = 'max', contentWeight = 1, styleWeight = 1e3, tvWeight = 1 }) {
  const { buildLossGraph } = await import(dist('loss/gatys.js'));
  const { resolveLayers } = await import(dist('model/vgg19.js'));
  const { loadVggWeights } = await import(dist('model/vgg19-file.js'));
  const weights = await loadVggWeights(weightsPath);
  const layers = resolveLayers(weights, contentLayers, styleLayers);
  const lg = buildLossGraph({ weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight, styleWeight, tvWeight, pool }, height, width);
  return { ...graphFlops(lg.graph), height, width, contentLayers: layers.content, styleLayers: layers.style };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (k, d) => {
    const i = process.argv.indexOf(k);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const size = Number(arg('--size', '256'));
  const weightsPath = path.resolve(REPO, arg('--weights', '../shared/assets/models/vgg19-conv1_1-conv3_4.safetensors'));
  // chelsea.png is 451 x 300: long side `size`, aspect kept (as stylize() resizes)
  const height = Number(arg('--height', String(Math.round((300 * size) / 451))));
  const r = await lossGraphFlops({ weightsPath, height, width: size });
  const g = (x) => (x / 1e9).toFixed(2);
  console.log(
    `${r.width}x${r.height}, ${r.nodes} nodes: ${g(r.total)} GFLOP/iter (conv fwd ${g(r.conv_forward)}, conv bwd ${g(r.conv_backward)}, gram ${g(r.gram)}, elementwise ${g(r.elementwise)})`,
  );
}
