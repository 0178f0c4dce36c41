/**
 * --verify and `v2v verify`: option parsing, the boot-check and compare
 * argv, the report's schema, batch manifests and -o json. The console
 * classification fed by a real child process and `qemu-img compare` on real
 * images: test/integration/verify.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareCommand } from '../../drivers/qemu-img.js';
import { bootCheckCommand } from '../../drivers/qemu-system.js';
import { planGuests } from '../../src/cli/batch/manifest.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { capabilities } from '../../src/cli/capabilities.js';
import { makeEvent } from '../../src/progress/events.js';
import { bootFailureReason, bootReport } from '../../src/verify/boot-check.js';
import { describeVerify, parseVerify } from '../../src/verify/choice.js';
import { describeVerifyReport, type VerifyReport } from '../../src/verify/report.js';
import { verifyStage } from '../../stages/verify.js';
import { eventErrors } from '../helpers/machine-readable-schema.js';
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
      disks: [
        { path: '/t/a,b.qcow2', format: 'qcow2' },
        { path: '/t/d2.qcow2', format: 'qcow2' },
      ],
      accel: 'kvm',
      machine: 'q35',
      memoryMiB: 1024,
      vcpus: 2,
    });
    expect(program).toBe('qemu-system-x86_64');
    expect(args).toEqual([
      '-accel',
      'kvm',
      '-machine',
      'q35',
      '-cpu',
      'host',
      '-m',
      '1024',
      '-smp',
      '2',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-nic',
      'none',
      '-boot',
      'reboot-timeout=0',
      '-no-reboot',
      '-chardev',
      'stdio,id=serial0,signal=off',
      '-serial',
      'chardev:serial0',
      '-drive',
      'file=/t/a,,b.qcow2,format=qcow2,if=none,id=disk0',
      '-device',
      'virtio-blk-pci,drive=disk0,bootindex=0',
      '-drive',
      'file=/t/d2.qcow2,format=qcow2,if=none,id=disk1',
      '-device',
      'virtio-blk-pci,drive=disk1',
    ]);
    expect(args.some((a) => /netdev|e1000|virtio-net/.test(a))).toBe(false);
  });

  it('uses OVMF with a writable vars copy for UEFI, and AHCI ports for SATA disks under TCG', () => {
    const { args } = bootCheckCommand({
      disks: [{ path: '/t/a', format: 'raw', bus: 'sata' }],
      accel: 'tcg',
      machine: 'q35',
      memoryMiB: 512,
      vcpus: 1,
      uefi: { code: '/ovmf/CODE.fd', vars: '/run/VARS.fd' },
    });
    expect(args).not.toContain('-cpu');
    expect(args).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd');
    expect(args).toContain('if=pflash,format=raw,unit=1,file=/run/VARS.fd');
    expect(args.join(' ')).toContain(
      '-device ahci,id=ahci0 -drive file=/t/a,format=raw,if=none,id=disk0 -device ide-hd,drive=disk0,bus=ahci0.0,bootindex=0',
    );
  });
});

describe('watchBoot classifies the serial console', () => {
  it('reports with the console lines and one-sentence reasons', () => {
    const report = bootReport(
      {
        outcome: 'failed',
        seconds: 52.3,
        console: 'a\r\nGave up waiting for root file system device.\r\n',
        decidingLine: 'Gave up waiting for root file system device.',
      },
      { accel: 'tcg', firmware: 'bios' },
    );
    expect(report).toEqual({
      status: 'failed',
      seconds: 52.3,
      accel: 'tcg',
      firmware: 'bios',
      decidingLine: 'Gave up waiting for root file system device.',
      consoleLines: ['a', 'Gave up waiting for root file system device.'],
    });
    expect(bootFailureReason(report, 480_000)).toBe('its console showed "Gave up waiting for root file system device." after 52 s');
    expect(bootFailureReason({ status: 'timeout', seconds: 480, consoleLines: ['Loading initial ramdisk ...'] }, 480_000)).toBe(
      'it did not reach a login prompt or the multi-user target within 480 s (last console line: "Loading initial ramdisk ...")',
    );
    expect(
      bootFailureReason({ status: 'timeout', seconds: 150, decidingLine: 'nothing on the serial console within 150 s' }, 480_000),
    ).toBe('nothing on the serial console within 150 s (the bootloader did not start a kernel using the serial console)');
  });
});

describe('qemu-img compare (real images)', () => {
  it('builds the argv with both formats pinned', () => {
    expect(compareCommand('/o.qcow2', 'qcow2', '/t', 'raw').args).toEqual(['compare', '-f', 'qcow2', '-F', 'raw', '/o.qcow2', '/t']);
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

  it('validates against the machine-readable schema, as a verify info event and in result', () => {
    expect(eventErrors(makeEvent({ type: 'info', stage: 'verify', message: 'x', verify: report }))).toEqual([]);
    expect(
      eventErrors(
        makeEvent({
          type: 'result',
          message: 'failed',
          exitCode: 7,
          files: [],
          verify: { boot: { status: 'failed', seconds: 3, consoleLog: '/o/g.verify-console.log' } },
        }),
      ),
    ).toEqual([]);
    expect(
      eventErrors(makeEvent({ type: 'info', message: 'x', verify: { boot: { status: 'fine', seconds: 1 } } as unknown as VerifyReport }))
        .length,
    ).toBeGreaterThan(0);
  });

  it('batch manifests accept verify and pass it on as --verify', () => {
    const entry = (verify: unknown) => ({ name: 'g', input: { paths: ['/g.vmx'] }, output: { mode: 'local', storage: '/out' }, verify });
    const [all, boot, none, bad] = planGuests(
      [entry(true), { ...entry('boot'), name: 'h' }, { ...entry(false), name: 'i' }, { ...entry('fsck'), name: 'j' }],
      '/m',
    );
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
    expect(bios).toMatchObject({
      disks: [{ path: '/var/lib/libvirt/images/debian12-sda', format: 'qcow2', bus: 'virtio' }],
      firmware: 'bios',
      machine: 'q35',
      logDir: join(ROOT, 'test/unit/fixtures/domain-xml'),
    });
    const sata = await describeTarget([golden('tcg-sata-e1000.xml')], undefined);
    expect(sata.disks).toEqual([{ path: '/var/tmp/legacy-sda', format: 'raw', bus: 'sata' }]);
    const uefi = await describeTarget([golden('windows-uefi-secureboot.xml')], undefined);
    expect(uefi.firmware).toBe('uefi');
  });

  it('refuses an XML with other paths or with --firmware', async () => {
    await expect(describeTarget([golden('debian-bios.xml'), '/d.img'], undefined)).rejects.toThrow(
      /Pass one domain XML, or disk images, not both/,
    );
    await expect(describeTarget([golden('debian-bios.xml')], 'uefi')).rejects.toThrow(/--firmware only applies to disks given directly/);
  });
});

describe('the verify stage', () => {
  /** Runs the stage's task on a context holding just what it reads. */
  async function runStage(ctx: Record<string, unknown>): Promise<{ title: string; output: string[] }> {
    const stage = verifyStage();
    const seen = { title: '', output: [] as string[] };
    const task = {
      set title(t: string) {
        seen.title = t;
      },
      set output(o: string) {
        seen.output.push(o);
      },
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
