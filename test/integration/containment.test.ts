/**
 * Runs that can always be stopped, and files nobody else can read (issue
 * #16 items 3 and 4), on the built v2v with tiny sources made by qemu-img
 * and mkfifo: no appliance, no conversion, a few seconds in all.
 * - a .vmx that is a FIFO fails at once (it used to block forever and ignore
 *   SIGTERM);
 * - the second signal ends the process even while a thread-pool thread is
 *   blocked in a read (process.exit() waits for it forever: shown by the
 *   control);
 * - what a run creates, and what its children (qemu-img) create, is 0600 in
 *   a 0700 directory: the overlay made in the overlay stage is the witness;
 * - a real sshd without the SFTP subsystem: the error says that is what is
 *   missing (issue #16 item 11).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV2v } from '../helpers/live-run.js';
import { startSshd } from '../helpers/sshd.mjs';
import { ROOT, runV2v } from '../helpers/v2v.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-e2e-containment-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('every run can be stopped', () => {
  it('a .vmx that is a FIFO fails at once with exit 4 and says so', async () => {
    const fifo = join(work, 'guest.vmx');
    await execa('mkfifo', [fifo]);
    const started = Date.now();
    const r = await runV2v(['-i', 'vmx', fifo, '-o', 'null']);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toContain(`v2v: error: The VMX file ${fifo} is a FIFO, not a regular file`);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);

  /** Starts node on a script that blocks a thread-pool thread reading a FIFO; resolves to how it ended after two SIGTERMs. */
  async function twoSignals(onSecond: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const fifo = join(work, `block-${Date.now()}`);
    await execa('mkfifo', [fifo]);
    const script = `
      import { readFile } from 'node:fs/promises';
      import { exitBySignal } from ${JSON.stringify(join(ROOT, 'dist/src/run/main.js'))};
      let first = true;
      process.on('SIGTERM', (signal) => { if (first) { first = false; return; } ${onSecond}; });
      void readFile(${JSON.stringify(fifo)});
      setInterval(() => {}, 1000);
      console.log('blocked');
    `;
    const child = spawn('node', ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    child.kill('SIGTERM');
    const timeout = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 3_000));
    const result = await Promise.race([ended, timeout]);
    if (result === 'hung') {
      child.kill('SIGKILL');
      await ended;
      return { code: null, signal: null, ms: Infinity };
    }
    return { ...result, ms: Date.now() - sent };
  }

  it('the second signal ends v2v at once even while a thread is blocked in a read', async () => {
    const ours = await twoSignals('exitBySignal(signal)');
    expect(ours.signal).toBe('SIGTERM');
    expect(ours.ms).toBeLessThan(1_000);
    // Control: what main.ts did before, process.exit(), never returns here.
    const control = await twoSignals('process.exit(130)');
    expect(control.ms).toBe(Infinity);
  }, 30_000);
});

describe('what a run writes is readable by its user only', () => {
  it('the run directory is 0700 and the overlay qemu-img made in it 0600; SIGTERM then exits 130 and removes it', async () => {
    const src = join(work, 'tiny');
    await mkdir(src);
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', join(src, 'tiny.vmdk'), '16M']);
    await writeFile(
      join(src, 'tiny.vmx'),
      'displayName = "tiny"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "tiny.vmdk"\n',
    );
    const out = join(work, 'out');
    await mkdir(out);
    const run = await startV2v(['-i', 'vmx', join(src, 'tiny.vmx'), '-o', 'local', '-os', out], { V2V_TEST_PAUSE_AT: 'preflight' });
    try {
      await run.waitFor(/v2v: test hook: paused at preflight /, 60_000);
      const [runDir] = (await readdir(run.tmp)).filter((e) => e.startsWith('v2v-'));
      expect(runDir).toBeDefined();
      expect((await stat(join(run.tmp, runDir!))).mode & 0o777).toBe(0o700);
      const files = await readdir(join(run.tmp, runDir!));
      const overlays = files.filter((f) => f.endsWith('.qcow2'));
      expect(overlays.length, files.join(', ')).toBe(1);
      expect((await stat(join(run.tmp, runDir!, overlays[0]!))).mode & 0o777).toBe(0o600);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(130);
      expect((await readdir(run.tmp)).filter((e) => e.startsWith('v2v-'))).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
      await rm(run.tmp, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('an SSH server without the SFTP subsystem', () => {
  it('fails at the source with exit 4, saying the SFTP subsystem is needed', async () => {
    const sshd = await startSshd({ sftp: false });
    try {
      const src = join(work, 'remote');
      await mkdir(src);
      await execa('qemu-img', ['create', '-q', '-f', 'vmdk', join(src, 'tiny.vmdk'), '16M']);
      await writeFile(
        join(src, 'tiny.vmx'),
        'displayName = "tiny"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "tiny.vmdk"\n',
      );
      const r = await runV2v([
        '-i',
        'vmx',
        '-it',
        'ssh',
        `ssh://${sshd.user}@127.0.0.1:${sshd.port}${join(src, 'tiny.vmx')}`,
        '--ssh-identity',
        sshd.identity,
        '--known-hosts',
        sshd.knownHosts,
        '-o',
        'null',
      ]);
      expect(r.exitCode, r.stderr).toBe(4);
      expect(r.stderr).toMatch(
        /v2v: error: Cannot read ssh:\/\/.*tiny\.vmdk \(.*sftp.*\): the SSH server must offer the SFTP subsystem, through which the disks are read: enable it/i,
      );
    } finally {
      await sshd.stop();
    }
  }, 120_000);
});
