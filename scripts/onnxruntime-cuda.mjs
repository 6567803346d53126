// Part of `npm ci` (the prepare step): onnxruntime-node's own install script is not allowed to run
// (package.json allowScripts), because it would download CUDA add-ons that the CPU build never needs;
// its CPU binary ships inside the package. With ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, this runs that
// script with the flag, so CUDA users get the CUDA execution provider as onnxruntime-node documents.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const flag = process.env.ONNXRUNTIME_NODE_INSTALL;
if (!flag || flag === 'skip') process.exit(0);
const require = createRequire(import.meta.url);
const script = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js');
process.stderr.write(`styleloom: ONNXRUNTIME_NODE_INSTALL=${flag}: running onnxruntime-node's installer\n`);
const r = spawnSync(process.execPath, [script], { stdio: 'inherit', env: process.env, cwd: path.dirname(path.dirname(script)) });
process.exit(r.status ?? 1);
