#!/usr/bin/env node
// Entry point of the `styleloom` command (compiled code in dist/, built by `npm ci` / `npm run build`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main();
