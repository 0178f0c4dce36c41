/**
 * Issue #16 items 1 and 5 with real runs of the Debian 12 test guest, made
 * deterministic with the V2V_TEST_PAUSE_AT test hook, and no conversion
 * (nothing here gets past the inspection: ~1 min in all under TCG):
 * - run A, paused at convert, holds its output names: run B with the same
 *   -on and -os fails in preflight (exit 3) and leaves A's files as they were;
 * - A is then SIGKILLed: its guestfish server and appliance qemu survive it
 *   (nothing can catch SIGKILL), and the next run in the same TMPDIR stops
 *   them and removes A's temp dir and libguestfs socket dir before it
 *   starts; A's reserved names stay, as names no finished disk has, and
 *   refuse that next run with the sentence for a killed run.
 * The finish of a reservation (rename over its own placeholders only) is
 * unit-tested in test/unit/own-names.test.ts.
 */
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture, type Fixture } from '../helpers/fixture.js';
import { markedProcesses, startV2v, type LiveRun } from '../helpers/live-run.js';
import { runLogPattern, runLogs } from '../helpers/run-log.js';
import { sha256 } from '../helpers/v2v.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12';

let fixture: Fixture;
let sourceHash: string;
let out: string;
const runs: LiveRun[] = [];

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  out = await mkdtemp(join(tmpdir(), 'v2v-e2e-own-names-'));
}, 40 * MINUTE);

afterAll(async () => {
  for (const run of runs) {
    run.child.kill('SIGKILL');
    await rm(run.tmp, { recursive: true, force: true });
  }
  if (out) await rm(out, { recursive: true, force: true });
});

/** Name → inode and size of every file in `dir` but the runs' logs. */
async function listing(dir: string): Promise<Record<string, string>> {
  const entries = (await readdir(dir)).filter((e) => !runLogPattern().test(e)).sort();
  return Object.fromEntries(
    await Promise.all(
      entries.map(async (e) => {
        const s = await lstat(join(dir, e));
        return [e, `ino ${s.ino}, ${s.size} bytes`] as const;
      }),
    ),
  );
}

/** The libguestfs socket dirs named in these processes' command lines. */
function socketDirs(processes: Array<{ cmd: string }>): string[] {
  return processes.flatMap((p) => [...p.cmd.matchAll(/path=(\/\S*\/libguestfs\w{6})\//g)].map((m) => m[1]!));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('two runs for the same names, then a SIGKILL', () => {
  it(
    "B fails in preflight without touching A's files; after A is killed the next run reaps its processes, temp dir and socket dir",
    async () => {
      const args = ['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', out, '-of', 'qcow2'];
      const a = await startV2v(args, { V2V_TEST_PAUSE_AT: 'convert' });
      runs.push(a);
      await a.waitFor(/v2v: test hook: paused at convert /, 20 * MINUTE);
      // Reserved in preflight: the XML and the disk under its final and its copy name, all empty.
      const reserved = await listing(out);
      expect(Object.keys(reserved)).toEqual([`${NAME}-sda`, `${NAME}-sda.v2v-partial`, `${NAME}.xml`]);
      expect(Object.values(reserved).every((v) => v.endsWith(' 0 bytes'))).toBe(true);
      expect(await runLogs(out, NAME)).toHaveLength(1); // A's, being written

      const started = Date.now();
      const b = await startV2v(args);
      runs.push(b);
      expect(await b.exited, b.stderr()).toBe(3);
      console.log(`run B refused in preflight after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(b.stderr()).toContain(
        `v2v: error: ${join(out, `${NAME}-sda.v2v-partial`)} exists: a v2v run is writing it, or one was killed while copying it;`,
      );
      expect(await listing(out)).toEqual(reserved);
      // B's log is a new file beside A's (a second run never overwrites a first run's record), and says why B stopped.
      const logs = await runLogs(out, NAME);
      expect(logs).toHaveLength(2);
      const bLog = logs.find((l) => b.stderr().includes(`v2v: log: ${l}`));
      expect(bLog, b.stderr()).toBeDefined();
      expect(await readFile(bLog!, 'utf8')).toContain(`v2v: error: ${join(out, `${NAME}-sda.v2v-partial`)} exists`);

      // SIGKILL: no cleanup can run. What survives is A's appliance.
      const running = await markedProcesses(a.mark);
      const appliance = running.filter((p) => /guestfish|qemu-system/.test(p.cmd));
      expect(appliance.map((p) => p.cmd).join('\n')).toMatch(/qemu-system/);
      const sockets = socketDirs(running);
      expect(sockets.length).toBeGreaterThan(0);
      a.child.kill('SIGKILL');
      await a.exited;
      await new Promise((r) => setTimeout(r, 2_000));
      const survivors = (await markedProcesses(a.mark)).filter((p) => p.pid !== a.pid);
      const rss = await Promise.all(
        survivors.map((p) =>
          readFile(`/proc/${p.pid}/status`, 'utf8').then(
            (t) => Number(/VmRSS:\s+(\d+)/.exec(t)?.[1] ?? 0),
            () => 0,
          ),
        ),
      );
      console.log(
        `2 s after SIGKILL, still running: ${survivors.map((p) => p.cmd.split(' ')[0]).join(', ')} (${(rss.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} MiB RSS)`,
      );
      expect(survivors.map((p) => p.cmd).join('\n')).toMatch(/qemu-system/);
      const aTemp = (await readdir(a.tmp)).filter((e) => e.startsWith('v2v-'));
      expect(aTemp).toHaveLength(1);

      // The next run in the same TMPDIR cleans up after A first, then is refused by A's leftover names.
      const reapStart = Date.now();
      const c = await startV2v(args, { TMPDIR: a.tmp });
      runs.push(c);
      expect(await c.exited, c.stderr()).toBe(3);
      console.log(`next run reaped A and was refused in ${((Date.now() - reapStart) / 1000).toFixed(1)} s`);
      expect(c.stderr()).toMatch(
        new RegExp(
          `v2v: warning: cleaned up after a v2v run that was killed: removed ${join(a.tmp, aTemp[0]!)} and stopped its processes \\d+`,
        ),
      );
      expect(await markedProcesses(a.mark)).toEqual([]);
      expect((await readdir(a.tmp)).filter((e) => e.startsWith('v2v-') || e.startsWith('libguestfs'))).toEqual([]);
      for (const dir of sockets) expect(await exists(dir), dir).toBe(false);
      expect(c.stderr()).toContain(`${NAME}-sda.v2v-partial exists: a v2v run is writing it, or one was killed while copying it`);
      expect(await listing(out)).toEqual(reserved);
      expect(await runLogs(out, NAME)).toHaveLength(3);
      expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    },
    30 * MINUTE,
  );
});
