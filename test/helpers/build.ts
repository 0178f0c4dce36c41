/**
 * vitest globalSetup of the integration and e2e projects (vitest.config.ts):
 * they run the built CLI (bin/v2v.js imports dist/), so `npm run build`
 * (clean dist/, then tsc) runs first: a run of vitest can never test a stale
 * dist/. Once per vitest process, however many projects ask.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILT = Symbol.for('v2v.test.built');

export default function setup(): void {
  const flags = globalThis as { [BUILT]?: boolean };
  if (flags[BUILT]) return;
  const started = Date.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  flags[BUILT] = true;
  process.stderr.write(`built dist/ for the integration and e2e tests in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
