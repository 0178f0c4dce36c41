/**
 * Issue #16 item 5, the reaping half, with real processes and directories
 * standing in for a killed run's leftovers (a real SIGKILLed v2v is in
 * test/e2e/own-names.test.ts and progress-interrupt.test.ts): the next run
 * stops the processes still carrying a dead run's id, removes their
 * libguestfs socket directory and the dead run's temp dir, and leaves live
 * runs' and unmarked directories alone. And the run's own watchdog and
 * parent-death signal, on a node process SIGKILLed with a direct child and a
 * daemonized one (as the guestfish server): nothing of it is left running.
 * (What needs no process: test/unit/reaper.test.ts.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  markRunDir,
  processesWithEnv,
  processStat,
  reapDeadRuns,
  RUN_ID_ENV,
  RUN_OWNER_FILE,
  runIsAlive,
  stopRunProcesses,
} from '../../src/host/reaper.js';
import { ROOT } from '../helpers/v2v.js';

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

/**
 * Starts node on a stand-in for v2v (the built dist/): it marks a run, starts
 * the watchdog (unless told not to), makes a marked temp dir in `parent`, and
 * starts `sleep`s tagged with the run id: one through the exec wrapper
 * (parent-death signal), one with node's spawn (none), one daemonized in a
 * session of its own (as guestfish --listen's server). Resolves once they run.
 */
async function standIn(parent: string, options: { watchdog: boolean; release?: boolean }) {
  const dist = (file: string) => JSON.stringify(join(ROOT, 'dist/src/host', file));
  const script = `
    import { spawn } from 'node:child_process';
    import { markRun } from ${dist('reaper.js')};
    import { startWatchdog } from ${dist('watchdog.js')};
    import { makeRunTempDir } from ${dist('tmpdir.js')};
    import { spawn as wrapped } from ${dist('exec.js')};
    const id = markRun();
    const watchdog = ${options.watchdog} ? startWatchdog(id, ${JSON.stringify(parent)}) : undefined;
    const dir = await makeRunTempDir('v2v-', ${JSON.stringify(parent)});
    const direct = wrapped({ program: 'sleep', args: ['301'] });
    direct.catch(() => undefined);
    const plain = spawn('sleep', ['302'], { stdio: 'ignore' });
    spawn('sh', ['-c', 'setsid sleep 303 & exit 0'], { stdio: 'ignore' });
    console.log(JSON.stringify({ id, dir, watchdog: watchdog?.pid, direct: direct.pid, plain: plain.pid }));
    if (${options.release === true}) {
      // As main ends: its own children stopped, then the watchdog released; node must then end by itself,
      // with status 0 (not 13: an await left unsettled).
      await new Promise((r) => setTimeout(r, 300));
      direct.kill();
      plain.kill();
      await watchdog.release();
    } else setInterval(() => {}, 1000);
  `;
  const child = spawn('node', ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const info = await new Promise<{ id: string; dir: string; watchdog?: number; direct: number; plain: number }>((resolve) =>
    child.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString('utf8')) as never)),
  );
  let gone = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))).then((code) => {
    gone = true;
    return code;
  });
  // Until the three run (setsid may not have exec'd its sleep yet).
  const running = async (): Promise<boolean> => (await sleeps(info.id)).filter((c) => c.startsWith('sleep ')).length === 3;
  for (let i = 0; i < 50 && !gone && !(await running()); i++) await new Promise((r) => setTimeout(r, 100));
  return { child, exited, ...info };
}

/** The command lines of the run's processes still running (zombies are dead), the program by its base name. */
async function sleeps(id: string): Promise<string[]> {
  const pids = await processesWithEnv(RUN_ID_ENV, id);
  const lines = await Promise.all(
    pids.map(async (pid) => {
      const stat = await processStat(pid);
      if (stat === undefined || stat.state === 'Z') return '';
      return (await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')).split('\0').join(' ').trim();
    }),
  );
  return lines
    .filter((c) => c !== '')
    .map((c) => c.replace(/^\S*\//, ''))
    .sort();
}

describe('a SIGKILLed run leaves nothing running', () => {
  it('the watchdog stops the daemonized child, the parent-death signal the direct one; the temp dir goes', async () => {
    const parent = mkdtempSync(join(work, 'wd-'));
    const run = await standIn(parent, { watchdog: true });
    expect(await sleeps(run.id)).toEqual(['sleep 301', 'sleep 302', 'sleep 303']);
    const killed = Date.now();
    run.child.kill('SIGKILL');
    await run.exited;
    while ((await sleeps(run.id)).length > 0 && Date.now() - killed < 10_000) await new Promise((r) => setTimeout(r, 50));
    const ms = Date.now() - killed;
    console.log(`SIGKILL: the run's processes gone after ${ms} ms`);
    expect(await sleeps(run.id)).toEqual([]);
    expect(ms).toBeLessThan(5_000);
    // The watchdog removes the run's temp dir, then exits.
    for (let i = 0; i < 50 && (existsSync(run.dir) || isRunning(run.watchdog!)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(run.dir)).toBe(false);
    expect(isRunning(run.watchdog!)).toBe(false);
  }, 30_000);

  it('control: without the watchdog, the daemonized child and a child with no parent-death signal survive', async () => {
    const parent = mkdtempSync(join(work, 'nowd-'));
    const run = await standIn(parent, { watchdog: false });
    run.child.kill('SIGKILL');
    await run.exited;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await sleeps(run.id)).toEqual(['sleep 302', 'sleep 303']);
    expect(existsSync(run.dir)).toBe(true);
    await stopRunProcesses(run.id, 1_000);
  }, 30_000);

  it('a run that ends normally releases its watchdog, which exits and stops nothing', async () => {
    const parent = mkdtempSync(join(work, 'release-'));
    const run = await standIn(parent, { watchdog: true, release: true });
    expect(await run.exited).toBe(0);
    expect(isRunning(run.watchdog!)).toBe(false);
    await new Promise((r) => setTimeout(r, 1_000));
    // What the run left (its own cleanup's job, not the watchdog's) is still there.
    expect(await sleeps(run.id)).toEqual(['sleep 303']);
    expect(existsSync(run.dir)).toBe(true);
    await stopRunProcesses(run.id, 1_000);
  }, 30_000);
});
