#!/usr/bin/env node
// Entry point: the compiled CLI (npm run build writes dist/).
import { cli } from '../dist/src/cli/index.js';

process.exitCode = await cli(process.argv.slice(2));
