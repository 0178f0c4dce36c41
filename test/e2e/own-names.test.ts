/**
 * Issue #16 items 1 and 5 with real runs of the Debian 12 test guest, made
 * deterministic with the V2V_TEST_PAUSE_AT test hook, and no conversion
 * (nothing here gets past the inspection: ~1 min in all under TCG):
 * - run A, paused at convert, holds its output names: run B with the same
 *   -on and -os fails in preflight (exit 3) and leaves A's files as they were;
 * - A is then SIGKILLed (nothing can catch it): within a few seconds its
 *   watchdog has stopped its guestfish server and appliance qemu and removed
 *   its temp dir and libguestfs socket dir; A's reserved names stay (names no
 *   finished disk has), with A's lock naming a dead run, and the next run
 *   with the same names removes them with a notice and proceeds (it is
 *   stopped at the inspection: no conversion).
 * The finish of a reservation (rename over its own placeholders only) is
 * unit-tested in test/unit/own-names.test.ts.
 */
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture, type Fixture } from '../helpers/fixture.js';
import { markedProcesses, markedProcessesAfter, startV2v, type LiveRun } from '../helpers/live-run.js';
import { runLogPattern, runLogs } from '../helpers/run-log.js';
import { sha256 } from '../helpers/v2v.js';
import { parseLock } from '../../src/output/reservation.js';

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
    "B fails in preflight without touching A's files; after A is SIGKILLed nothing of it runs, and the next run replaces its names",
    async () => {
      const args = ['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', out, '-of', 'qcow2'];
      const a = await startV2v(args, { V2V_TEST_PAUSE_AT: 'convert' });
      runs.push(a);
      await a.waitFor(/v2v: test hook: paused at convert /, 20 * MINUTE);
      // Reserved in preflight: the XML and the disk under its final and its copy name, all empty; and A's lock.
      const reserved = await listing(out);
      expect(Object.keys(reserved)).toEqual([`${NAME}-sda`, `${NAME}-sda.v2v-partial`, `${NAME}.v2v-lock`, `${NAME}.xml`]);
      expect(Object.entries(reserved).every(([name, v]) => name.endsWith('.v2v-lock') || v.endsWith(' 0 bytes'))).toBe(true);
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

      // SIGKILL: no cleanup of A's own can run. Its appliance is running.
      const running = await markedProcesses(a.mark);
      const appliance = running.filter((p) => /guestfish|qemu-system/.test(p.cmd));
      expect(appliance.map((p) => p.cmd).join('\n')).toMatch(/qemu-system/);
      const sockets = socketDirs(running);
      expect(sockets.length).toBeGreaterThan(0);
      const killed = Date.now();
      a.child.kill('SIGKILL');
      await a.exited;
      const survivors = await markedProcessesAfter(a.mark, 10_000);
      console.log(`after SIGKILL, nothing of run A left running after ${Date.now() - killed} ms`);
      expect(survivors).toEqual([]);
      expect((await readdir(a.tmp)).filter((e) => e.startsWith('v2v-') || e.startsWith('libguestfs'))).toEqual([]);
      for (const dir of sockets) expect(await exists(dir), dir).toBe(false);
      expect(await listing(out)).toEqual(reserved);

      // The next run with the same names removes A's, says so, and proceeds (stopped at the inspection: no conversion here).
      const c = await startV2v(args, { TMPDIR: a.tmp, V2V_TEST_PAUSE_AT: 'inspect' });
      runs.push(c);
      await c.waitFor(/v2v: test hook: paused at inspect /, 20 * MINUTE);
      expect(c.stderr()).toMatch(
        new RegExp(
          `v2v: warning: a v2v run converting ${NAME} into ${out} was killed \\(pid ${a.pid}, started [^)]*\\): removed what it left: ${NAME}-sda, ${NAME}-sda\\.v2v-partial, ${NAME}\\.xml\n`,
        ),
      );
      // The watchdog had cleaned up already: nothing for the next run to reap.
      expect(c.stderr()).not.toContain('cleaned up after a v2v run that was killed');
      // The same names, reserved again by C (inode numbers may be reused: the lock says whose they are).
      expect(Object.keys(await listing(out))).toEqual(Object.keys(reserved));
      expect(parseLock(await readFile(join(out, `${NAME}.v2v-lock`), 'utf8'))?.owner.pid).toBe(c.pid);
      c.child.kill('SIGINT');
      expect(await c.exited, c.stderr()).toBe(130);
      expect(await listing(out)).toEqual({});
      expect(await runLogs(out, NAME)).toHaveLength(3);
      expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    },
    30 * MINUTE,
  );
});
