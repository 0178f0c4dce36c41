/**
 * Issue #16 item 5, the reaping half, with real processes and directories
 * standing in for a killed run's leftovers (a real SIGKILLed v2v is in
 * test/e2e/own-names.test.ts): the next run stops the processes still
 * carrying a dead run's id, removes their libguestfs socket directory and
 * the dead run's temp dir, and leaves live runs' and unmarked directories
 * alone. (What needs no process: test/unit/reaper.test.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markRunDir, processStat, reapDeadRuns, RUN_ID_ENV, RUN_OWNER_FILE, runIsAlive } from '../../src/host/reaper.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-reaper-unit-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A process standing in for a dead run's child (an appliance qemu): a shell whose command line names a libguestfs socket. */
function leftover(runId: string, socketDir: string): ChildProcess {
  const child = spawn('sh', ['-c', 'sleep 300; :', 'qemu', '-chardev', `socket,path=${socketDir}/guestfsd.sock,id=channel0`], {
    env: { ...process.env, [RUN_ID_ENV]: runId },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('reapDeadRuns', () => {
  it("stops a dead run's processes, removes its socket dir and temp dir; leaves live and unmarked dirs alone", async () => {
    const parent = mkdtempSync(join(work, 'tmp-'));
    const self = await processStat('self');
    // A dead owner: this pid with another start time is what a reused pid looks like.
    const deadId = `${process.pid}-dead0001`;
    const dead = join(parent, 'v2v-AAAAAA');
    mkdirSync(dead);
    writeFileSync(join(dead, RUN_OWNER_FILE), `${deadId} ${process.pid} ${Number(self!.startTime) + 1}\n`);
    writeFileSync(join(dead, 'overlay-sd0.qcow2'), 'x');
    const socketDir = join(work, 'libguestfsAb12Cd');
    mkdirSync(socketDir);
    writeFileSync(join(socketDir, 'guestfsd.sock'), '');
    const appliance = leftover(deadId, socketDir);
    // A dead owner whose pid no longer exists at all.
    const gone = join(parent, 'v2v-BBBBBB');
    mkdirSync(gone);
    writeFileSync(join(gone, RUN_OWNER_FILE), '4194399-gone 4194399 123\n');
    // A live run (this process), an unmarked dir, and a dir of another program.
    const live = join(parent, 'v2v-CCCCCC');
    mkdirSync(live);
    await markRunDir(live, `${process.pid}-live0001`);
    const liveChild = leftover(`${process.pid}-live0001`, join(work, 'libguestfsLive00'));
    mkdirSync(join(parent, 'v2v-unmarked'));
    mkdirSync(join(parent, 'other-v2v-AAAA'));
    writeFileSync(join(parent, 'other-v2v-AAAA', RUN_OWNER_FILE), `${deadId} ${process.pid} 1\n`);
    await new Promise((r) => setTimeout(r, 200)); // let the shells start

    const reaped = await reapDeadRuns(parent);

    expect(reaped.map((r) => r.dir).sort()).toEqual([dead, gone]);
    expect(reaped.find((r) => r.dir === dead)!.pids).toContain(appliance.pid);
    expect(isRunning(appliance.pid!)).toBe(false);
    expect(existsSync(socketDir)).toBe(false);
    expect(readdirSync(parent).sort()).toEqual(['other-v2v-AAAA', 'v2v-CCCCCC', 'v2v-unmarked']);
    expect(isRunning(liveChild.pid!)).toBe(true);
    expect(await reapDeadRuns(parent)).toEqual([]);
  }, 20_000);
});

describe('run ownership', () => {
  it('a killed process that is not reaped yet (a zombie) counts as dead', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const stat = await processStat(child.pid!);
    const owner = { id: `${child.pid}-z`, pid: child.pid!, startTime: stat!.startTime };
    expect(await runIsAlive(owner)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await runIsAlive(owner)).toBe(false);
  });
});
