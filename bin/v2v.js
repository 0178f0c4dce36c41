#!/usr/bin/env node
// Entry point: the compiled CLI (npm run build writes dist/).
import '../dist/src/cli.js';
