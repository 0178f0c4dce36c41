/**
 * --verify and `v2v verify`: option parsing, the boot-check argv, the console
 * classification (fed by a real child process printing console text — a
 * stand-in for qemu's serial console, which needs a bootable guest: the e2e
 * tests boot real ones), `qemu-img compare` on real images, the report's
 * schema, batch manifests and -o json.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand, compareImages } from '../../drivers/qemu-img.js';
import { bootCheckCommand, lastConsoleLines, plainConsole, watchBoot } from '../../drivers/qemu-system.js';
import { planGuests } from '../../src/cli/batch/manifest.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { capabilities } from '../../src/cli/capabilities.js';
import { makeEvent } from '../../src/progress/events.js';
import { bootFailureReason, bootReport } from '../../src/verify/boot-check.js';
import { describeVerify, parseVerify } from '../../src/verify/choice.js';
import { describeVerifyReport, type VerifyReport } from '../../src/verify/report.js';
import { verifyStage } from '../../stages/verify.js';
import { validate, type Schema } from '../helpers/json-schema.js';
import { ROOT } from '../helpers/v2v.js';
import { describeTarget } from '../../src/verify/target.js';

describe('--verify parsing', () => {
  it.each<[string | undefined, { checksum: boolean; boot: boolean }]>([
    [undefined, { checksum: false, boot: false }],
    ['', { checksum: true, boot: true }],
    ['all', { checksum: true, boot: true }],
    ['checksum', { checksum: true, boot: false }],
    ['boot', { checksum: false, boot: true }],
    ['boot,checksum', { checksum: true, boot: true }],
    ['none', { checksum: false, boot: false }],
  ])('%j', (raw, expected) => {
    expect(parseVerify(raw)).toEqual(expected);
  });

  it('refuses unknown words and none mixed with checks', () => {
    expect(() => parseVerify('fsck')).toThrow(/Unknown "--verify=fsck": use --verify/);
    expect(() => parseVerify('none,boot')).toThrow(/use --verify=none alone/);
  });

  it('is off by default, remote sources included, and refused by name with -o null', () => {
    const base = { o: 'local', os: '/out' };
    expect(normalizeOptions({ ...base, positional: ['https://h/g.vmx'] }).verify).toEqual({ checksum: false, boot: false });
    expect(normalizeOptions({ ...base, positional: ['/g.vmx'], verify: 'checksum' }).verify).toEqual({ checksum: true, boot: false });
    expect(() => normalizeOptions({ o: 'null', positional: ['/g.vmx'], verify: '' })).toThrow(/--verify does not apply to -o null/);
    expect(normalizeOptions({ o: 'null', positional: ['/g.vmx'], verify: 'none' }).verify).toEqual({ checksum: false, boot: false });
    expect(describeVerify({ checksum: true, boot: true })).toBe('checksum and boot');
  });

  it('is listed as capabilities, with the verify stage', () => {
    expect(capabilities('1')).toEqual(expect.arrayContaining(['verify-option', 'verify-command', 'stage:verify']));
  });
});

describe('bootCheckCommand', () => {
  it('boots virtio disks with no network device, the serial console on stdout, KVM with -cpu host', () => {
    const { program, args } = bootCheckCommand({
      disks: [{ path: '/t/a,b.qcow2', format: 'qcow2' }, { path: '/t/d2.qcow2', format: 'qcow2' }],
      accel: 'kvm', machine: 'q35', memoryMiB: 1024, vcpus: 2,
    });
    expect(program).toBe('qemu-system-x86_64');
    expect(args).toEqual([
      '-accel', 'kvm', '-machine', 'q35', '-cpu', 'host', '-m', '1024', '-smp', '2',
      '-nodefaults', '-no-user-config', '-display', 'none', '-nic', 'none', '-boot', 'reboot-timeout=0', '-no-reboot',
      '-chardev', 'stdio,id=serial0,signal=off', '-serial', 'chardev:serial0',
      '-drive', 'file=/t/a,,b.qcow2,format=qcow2,if=none,id=disk0', '-device', 'virtio-blk-pci,drive=disk0,bootindex=0',
      '-drive', 'file=/t/d2.qcow2,format=qcow2,if=none,id=disk1', '-device', 'virtio-blk-pci,drive=disk1',
    ]);
    expect(args.some((a) => /netdev|e1000|virtio-net/.test(a))).toBe(false);
  });

  it('uses OVMF with a writable vars copy for UEFI, and AHCI ports for SATA disks under TCG', () => {
    const { args } = bootCheckCommand({
      disks: [{ path: '/t/a', format: 'raw', bus: 'sata' }],
      accel: 'tcg', machine: 'q35', memoryMiB: 512, vcpus: 1,
      uefi: { code: '/ovmf/CODE.fd', vars: '/run/VARS.fd' },
    });
    expect(args).not.toContain('-cpu');
    expect(args).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd');
    expect(args).toContain('if=pflash,format=raw,unit=1,file=/run/VARS.fd');
    expect(args.join(' ')).toContain('-device ahci,id=ahci0 -drive file=/t/a,format=raw,if=none,id=disk0 -device ide-hd,drive=disk0,bus=ahci0.0,bootindex=0');
  });
});

/** A stand-in for qemu: a shell printing `script`'s console text, then sleeping until stopped. */
function fakeConsole(script: string): { program: string; args: string[] } {
  return { program: 'sh', args: ['-c', `${script}; exec sleep 30`] };
}

describe('watchBoot classifies the serial console', () => {
  it('passes on a login prompt, with the deciding line, and stops the process', async () => {
    const started = Date.now();
    const w = await watchBoot(fakeConsole(`printf '\\033[0;32m[  OK  ]\\033[0m Started ssh\\r\\n\\r\\nDebian GNU/Linux 12 deb ttyS0\\r\\n\\r\\ndeb login: '`), { timeoutMs: 10_000 });
    expect(w.outcome).toBe('booted');
    expect(w.decidingLine).toBe('deb login:');
    expect(lastConsoleLines(w.console, 2)).toEqual(['Debian GNU/Linux 12 deb ttyS0', 'deb login:']);
    expect(Date.now() - started).toBeLessThan(8_000); // did not wait for the sleep
  });

  it('quotes the deciding line without an escape that a chunk cut in two (seen in CI: "multi-user.target\\e[0")', async () => {
    // Two writes a second apart: the first ends inside systemd's color escape.
    const w = await watchBoot(fakeConsole(`printf '\\033[0;32m  OK  \\033[0m] Reached target \\033[0;1;39mmulti-user.target\\033[0'; sleep 1; printf 'm - Multi-User System.\\r\\n'`), { timeoutMs: 10_000 });
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
    ['You are in emergency mode. After logging in, type "journalctl -xb"', 'You are in emergency mode. After logging in, type "journalctl -xb"'],
    ['[  5.1] Kernel panic - not syncing: VFS: Unable to mount root fs', '[  5.1] Kernel panic - not syncing: VFS: Unable to mount root fs'],
    ['dracut-initqueue[301]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:', 'dracut-initqueue[301]: Warning: dracut-initqueue: timeout, still waiting for following initqueue hooks:'],
  ])('fails on %j', async (text, line) => {
    const w = await watchBoot(fakeConsole(`printf '%s\\n' 'Loading Linux ...' '${text}'`), { timeoutMs: 10_000 });
    expect(w.outcome).toBe('failed');
    expect(w.decidingLine).toBe(line);
  });

  it('lets the earlier match decide: an emergency shell offering "login:" later is a failure', async () => {
    const w = await watchBoot(fakeConsole(`printf '%s\\n' 'You are in emergency mode.' 'Give root password for maintenance' 'deb login: '`), { timeoutMs: 10_000 });
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
    await expect(watchBoot(fakeConsole('echo booting'), { timeoutMs: 10_000, signal: abort.signal })).rejects.toThrow('Interrupted by SIGINT.');
  });

  it('reports with the console lines and one-sentence reasons', () => {
    const report = bootReport({ outcome: 'failed', seconds: 52.3, console: 'a\r\nGave up waiting for root file system device.\r\n', decidingLine: 'Gave up waiting for root file system device.' }, { accel: 'tcg', firmware: 'bios' });
    expect(report).toEqual({ status: 'failed', seconds: 52.3, accel: 'tcg', firmware: 'bios', decidingLine: 'Gave up waiting for root file system device.', consoleLines: ['a', 'Gave up waiting for root file system device.'] });
    expect(bootFailureReason(report, 480_000)).toBe('its console showed "Gave up waiting for root file system device." after 52 s');
    expect(bootFailureReason({ status: 'timeout', seconds: 480, consoleLines: ['Loading initial ramdisk ...'] }, 480_000)).toBe('it did not reach a login prompt or the multi-user target within 480 s (last console line: "Loading initial ramdisk ...")');
    expect(bootFailureReason({ status: 'timeout', seconds: 150, decidingLine: 'nothing on the serial console within 150 s' }, 480_000)).toBe('nothing on the serial console within 150 s (the bootloader did not start a kernel using the serial console)');
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

  it('builds the argv with both formats pinned', () => {
    expect(compareCommand('/o.qcow2', 'qcow2', '/t', 'raw').args).toEqual(['compare', '-f', 'qcow2', '-F', 'raw', '/o.qcow2', '/t']);
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

describe('reports', () => {
  const report: VerifyReport = {
    checksum: { status: 'passed', seconds: 2.1, disks: 1 },
    boot: { status: 'passed', seconds: 31.04, accel: 'tcg', firmware: 'bios', decidingLine: 'deb login:', consoleLines: ['deb login:'] },
  };

  it('reads as one phrase in the summary', () => {
    expect(describeVerifyReport(report)).toBe('checksum passed (1 disk(s), 2.1 s), boot passed (userspace reached in 31.0 s, tcg)');
    expect(describeVerifyReport({ boot: { status: 'skipped', seconds: 0, reason: 'windows' } })).toBe('boot skipped (windows)');
  });

  it('validates against the machine-readable schema, as a verify info event and in result', async () => {
    const schema = JSON.parse(await readFile(join(ROOT, 'docs/machine-readable.schema.json'), 'utf8')) as Schema;
    expect(validate(schema, makeEvent({ type: 'info', stage: 'verify', message: 'x', verify: report }))).toEqual([]);
    expect(validate(schema, makeEvent({ type: 'result', message: 'failed', exitCode: 7, files: [], verify: { boot: { status: 'failed', seconds: 3, consoleLog: '/o/g.verify-console.log' } } }))).toEqual([]);
    expect(validate(schema, makeEvent({ type: 'info', message: 'x', verify: { boot: { status: 'fine', seconds: 1 } } as unknown as VerifyReport })).length).toBeGreaterThan(0);
  });

  it('batch manifests accept verify and pass it on as --verify', () => {
    const entry = (verify: unknown) => ({ name: 'g', input: { paths: ['/g.vmx'] }, output: { mode: 'local', storage: '/out' }, verify });
    const [all, boot, none, bad] = planGuests([entry(true), { ...entry('boot'), name: 'h' }, { ...entry(false), name: 'i' }, { ...entry('fsck'), name: 'j' }], '/m');
    expect(all?.argv.at(-1)).toBe('--verify');
    expect(boot?.argv.at(-1)).toBe('--verify=boot');
    expect(none?.argv.at(-1)).toBe('--verify=none');
    expect(bad?.invalid).toMatch(/Unknown "--verify=fsck"/);
  });
});

describe('v2v verify reads the guest from a domain XML', () => {
  const golden = (name: string): string => join(ROOT, 'test/unit/fixtures/domain-xml', name);

  it('takes disks, formats, buses, firmware, machine, memory and vCPUs from the XML', async () => {
    const bios = await describeTarget([golden('debian-bios.xml')], undefined);
    expect(bios).toMatchObject({ disks: [{ path: '/var/lib/libvirt/images/debian12-sda', format: 'qcow2', bus: 'virtio' }], firmware: 'bios', machine: 'q35', logDir: join(ROOT, 'test/unit/fixtures/domain-xml') });
    const sata = await describeTarget([golden('tcg-sata-e1000.xml')], undefined);
    expect(sata.disks).toEqual([{ path: '/var/tmp/legacy-sda', format: 'raw', bus: 'sata' }]);
    const uefi = await describeTarget([golden('windows-uefi-secureboot.xml')], undefined);
    expect(uefi.firmware).toBe('uefi');
  });

  it('refuses an XML with other paths or with --firmware', async () => {
    await expect(describeTarget([golden('debian-bios.xml'), '/d.img'], undefined)).rejects.toThrow(/Pass one domain XML, or disk images, not both/);
    await expect(describeTarget([golden('debian-bios.xml')], 'uefi')).rejects.toThrow(/--firmware only applies to disks given directly/);
  });
});

describe('the verify stage', () => {
  /** Runs the stage's task on a context holding just what it reads. */
  async function runStage(ctx: Record<string, unknown>): Promise<{ title: string; output: string[] }> {
    const stage = verifyStage();
    const seen = { title: '', output: [] as string[] };
    const task = {
      set title(t: string) { seen.title = t; },
      set output(o: string) { seen.output.push(o); },
    };
    await (stage.task as (c: unknown, t: unknown) => Promise<void>)(ctx, task);
    return seen;
  }

  it('is disabled without --verify and skipped with a reason for -o null', () => {
    const stage = verifyStage();
    const enabled = stage.enabled as (c: unknown) => boolean;
    const skip = stage.skip as (c: unknown) => string | false;
    expect(enabled({ options: { verify: { checksum: false, boot: false } } })).toBe(false);
    expect(enabled({ options: { verify: { checksum: false, boot: true } } })).toBe(true);
    expect(skip({ options: { output: { mode: 'null' } } })).toBe('-o null discards the disks: nothing to verify');
    expect(skip({ options: { output: { mode: 'local' } } })).toBe(false);
  });

  it('reports a Windows guest as not boot-tested, with a warning: never a pass', async () => {
    const warnings: string[] = [];
    const ctx: Record<string, unknown> = {
      options: { verify: { checksum: false, boot: true }, output: { mode: 'local', storage: '/out' } },
      warnings,
      inspection: { type: 'windows' },
      caps: { serialConsole: false, blockBus: 'virtio', machine: 'q35' },
      targets: [],
    };
    const seen = await runStage(ctx);
    const verification = ctx['verification'] as VerifyReport;
    expect(verification.boot?.status).toBe('skipped');
    expect(verification.boot?.reason).toMatch(/not available for windows guests yet .*the guest was NOT boot-tested/);
    expect(warnings).toEqual([verification.boot?.reason]);
    expect(seen.title).toBe(`Verified the converted guest: boot skipped (${verification.boot?.reason ?? ''})`);
  });
});
