/**
 * --verify's checks on real processes: the console classification, fed by a
 * real child process printing console text (a stand-in for qemu's serial
 * console, which needs a bootable guest: the e2e tests boot real ones), and
 * `qemu-img compare` on real images (the rest: test/unit/verify.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareImages } from '../../drivers/qemu-img.js';
import { lastConsoleLines, plainConsole, watchBoot } from '../../drivers/qemu-system.js';

/** A stand-in for qemu: a shell printing `script`'s console text, then sleeping until stopped. */
function fakeConsole(script: string): { program: string; args: string[] } {
  return { program: 'sh', args: ['-c', `${script}; exec sleep 30`] };
}

describe('watchBoot classifies the serial console', () => {
  it('passes on a login prompt, with the deciding line, and stops the process', async () => {
    const started = Date.now();
    const w = await watchBoot(
      fakeConsole(`printf '\\033[0;32m[  OK  ]\\033[0m Started ssh\\r\\n\\r\\nDebian GNU/Linux 12 deb ttyS0\\r\\n\\r\\ndeb login: '`),
      { timeoutMs: 10_000 },
    );
    expect(w.outcome).toBe('booted');
    expect(w.decidingLine).toBe('deb login:');
    expect(lastConsoleLines(w.console, 2)).toEqual(['Debian GNU/Linux 12 deb ttyS0', 'deb login:']);
    expect(Date.now() - started).toBeLessThan(8_000); // did not wait for the sleep
  });

  it('quotes the deciding line without an escape that a chunk cut in two (seen in CI: "multi-user.target\\e[0")', async () => {
    // Two writes a second apart: the first ends inside systemd's color escape.
    const w = await watchBoot(
      fakeConsole(
        `printf '\\033[0;32m  OK  \\033[0m] Reached target \\033[0;1;39mmulti-user.target\\033[0'; sleep 1; printf 'm - Multi-User System.\\r\\n'`,
      ),
      { timeoutMs: 10_000 },
    );
    expect(w.outcome).toBe('booted');
    expect(w.decidingLine).toBe('OK  ] Reached target multi-user.target');
    expect(plainConsole('a\u001b[0;1')).toBe('a');
    expect(plainConsole('a\u001b')).toBe('a');
    expect(plainConsole('a\u001b[0mb')).toBe('ab');
  });

  it('passes on systemd reaching the multi-user target', async () => {
    const w = await watchBoot(fakeConsole(`echo '[  OK  ] Reached target Multi-User System.'`), { timeoutMs: 10_000 });
    expect(w.outcome).toBe('booted');
  });

  it.each([
    ['Gave up waiting for root file system device.  Common problems:', 'Gave up waiting for root file system device.  Common problems:'],
    ['(initramfs) ', '(initramfs)'],
    [
      'You are in emergency mode. After logging in, type "journalctl -xb"',
      'You are in emergency mode. After logging in, type "journalctl -xb"',
    ],
    [
      '[  5.1] Kernel panic - not syncing: VFS: Unable to mount root fs',
      '[  5.1] Kernel panic - not syncing: VFS: Unable to mount root fs',
    ],
    [
      'dracut-initqueue[301]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:',
      'dracut-initqueue[301]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:',
    ],
  ])('fails on %j', async (text, line) => {
    const w = await watchBoot(fakeConsole(`printf '%s\\n' 'Loading Linux ...' '${text}'`), { timeoutMs: 10_000 });
    expect(w.outcome).toBe('failed');
    expect(w.decidingLine).toBe(line);
  });

  it('lets the earlier match decide: an emergency shell offering "login:" later is a failure', async () => {
    const w = await watchBoot(
      fakeConsole(`printf '%s\\n' 'You are in emergency mode.' 'Give root password for maintenance' 'deb login: '`),
      { timeoutMs: 10_000 },
    );
    expect(w.outcome).toBe('failed');
  });

  it('times out when nothing decides, and fails when the process exits by itself', async () => {
    const t = await watchBoot(fakeConsole(`echo 'SeaBIOS (version 1.16)'`), { timeoutMs: 1_500 });
    expect(t.outcome).toBe('timeout');
    expect(t.seconds).toBeGreaterThanOrEqual(1.4);
    const e = await watchBoot({ program: 'sh', args: ['-c', 'echo "qemu: could not open disk" >&2; exit 1'] }, { timeoutMs: 10_000 });
    expect(e.outcome).toBe('failed');
    expect(e.decidingLine).toMatch(/qemu exited by itself \(code 1\): qemu: could not open disk/);
  });

  it('gives up early on a console that stays silent, not on one that talks', async () => {
    const silent = await watchBoot({ program: 'sleep', args: ['30'] }, { timeoutMs: 10_000, silenceTimeoutMs: 800 });
    expect(silent.outcome).toBe('timeout');
    expect(silent.decidingLine).toBe('nothing on the serial console within 1 s');
    expect(silent.seconds).toBeLessThan(5);
    const talking = await watchBoot(fakeConsole(`echo 'Linux version 6.1.0'`), { timeoutMs: 1_500, silenceTimeoutMs: 800 });
    expect(talking.outcome).toBe('timeout');
    expect(talking.decidingLine).toBeUndefined();
    expect(talking.seconds).toBeGreaterThanOrEqual(1.4);
  });

  it('stops the process and rejects when the run is interrupted', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('Interrupted by SIGINT.')), 300);
    await expect(watchBoot(fakeConsole('echo booting'), { timeoutMs: 10_000, signal: abort.signal })).rejects.toThrow(
      'Interrupted by SIGINT.',
    );
  });
});

describe('qemu-img compare (real images)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'v2v-unit-compare-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds a qcow2 and its raw copy identical, and a changed copy different', async () => {
    const qcow = join(dir, 'a.qcow2');
    const raw = join(dir, 'a.raw');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '8M']);
    await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 1M', qcow]);
    await execa('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow, raw]);
    expect(await compareImages(qcow, 'qcow2', raw, 'raw')).toEqual({ identical: true });
    await execa('qemu-io', ['-f', 'raw', '-c', 'write -P 0xa5 4M 64k', raw]);
    const diff = await compareImages(qcow, 'qcow2', raw, 'raw');
    expect(diff.identical).toBe(false);
    if (!diff.identical) expect(diff.difference).toMatch(/mismatch at offset 4194304/i);
    await expect(compareImages(join(dir, 'missing'), 'qcow2', raw, 'raw')).rejects.toThrow(/qemu-img compare failed \(exit code 2\)/);
  });
});
