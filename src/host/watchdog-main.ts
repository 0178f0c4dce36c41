/**
 * The cleanup a run's watchdog runs once v2v has died without cleaning up
 * (watchdog.ts): `node watchdog-main.js RUNID PARENT`. Stops every process
 * still carrying the run id (SIGTERM, then SIGKILL; a process forked while
 * the first pass ran is caught by the next), with their libguestfs socket
 * dirs, then removes the run's marked temp dirs in PARENT.
 */
import { printErr } from '../text/safe-text.js';
import { reapDeadRuns, stopRunProcesses } from './reaper.js';

const [runId, parent] = process.argv.slice(2);
if (runId === undefined || runId === '' || parent === undefined) {
  printErr('usage: watchdog-main.js RUNID PARENT');
  process.exit(2);
}
for (let pass = 0; pass < 3; pass++) {
  if ((await stopRunProcesses(runId)).length === 0) break;
}
await reapDeadRuns(parent, runId);
