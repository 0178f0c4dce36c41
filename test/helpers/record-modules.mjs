/**
 * Preloaded with `node --import` and V2V_MODULE_LOG=FILE: appends the URL of
 * every ES module the process loads to FILE, one a line, so a test can check
 * what a command line loads (test/integration/cli-load.test.ts).
 */
import { appendFileSync } from 'node:fs';
import module from 'node:module';
import { isMainThread } from 'node:worker_threads';

/** Records the module, then loads it as usual. */
export function load(url, context, nextLoad) {
  appendFileSync(process.env.V2V_MODULE_LOG, `${url}\n`);
  return nextLoad(url, context);
}

// Node >= 22.15 runs hooks in this thread (registerHooks); older ones on a
// hooks thread that imports this file again (register), where it must not
// register once more.
if (module.registerHooks) module.registerHooks({ load });
else if (isMainThread) module.register(import.meta.url);
