/**
 * Hard limits checked in the source stage (issue #16 item 9): a source the
 * output cannot express fails before any overlay or copy, and extra CD-ROM
 * drives are dropped with a warning instead of an internal error after the
 * copy. The sources are parsed from real VMX text; the XML of the limited
 * source is built for both machine types (validated with virt-xml-validate
 * at the memory limit: test/integration/source-limits.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { checkSourceLimits } from '../../src/input/limits.js';
import { parseVmx } from '../../src/input/vmx/parse.js';
import type { GuestCaps } from '../../src/model.js';
import { buildDomainXml } from '../../src/output/domain-xml.js';

const caps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };

function vmx(lines: string[]): string {
  return ['displayName = "big"', 'scsi0.present = "TRUE"', 'scsi0:0.present = "TRUE"', 'scsi0:0.fileName = "big.vmdk"', ...lines].join(
    '\n',
  );
}

function cdroms(count: number): string[] {
  // 27 drives: 4 SATA controllers x 30 units are allowed by VMware.
  return Array.from({ length: count }, (_, i) => [
    `sata${Math.floor(i / 30)}.present = "TRUE"`,
    `sata${Math.floor(i / 30)}:${i % 30}.present = "TRUE"`,
    `sata${Math.floor(i / 30)}:${i % 30}.deviceType = "cdrom-raw"`,
  ]).flat();
}

function limitError(text: string): string {
  const source = parseVmx(text, '/vm/big.vmx');
  try {
    checkSourceLimits(source, 'The source big');
  } catch (error) {
    expect(error).toBeInstanceOf(SourceError);
    return (error as Error).message;
  }
  throw new Error('no limit hit');
}

describe('source limits', () => {
  it('keeps 4 of 27 CD-ROM drives, with a warning, and the XML then builds on pc and q35', () => {
    const source = parseVmx(vmx(cdroms(27)), '/vm/big.vmx');
    expect(source.removables.filter((r) => r.kind === 'cdrom')).toHaveLength(27);
    // Without the limit, a pc guest's CD-ROMs would not fit its one IDE controller (SATA on q35 takes them all).
    const disks = [{ overlay: '/o', path: '/out/big-sda', format: 'raw' as const, virtualSize: 2 ** 30, dev: 'vda' }];
    expect(() => buildDomainXml({ name: 'big', source, disks, caps: { ...caps, machine: 'pc' } })).toThrow(
      /0 disk\(s\) and 27 CD-ROM drive\(s\) on IDE, whose controller has 4 places/,
    );
    checkSourceLimits(source, 'The source big');
    expect(source.removables).toHaveLength(4);
    expect(source.warnings.at(-1)).toBe(
      'The source big has 27 CD-ROM drives; the converted guest gets the first 4 (empty, as every converted CD-ROM), the others are not created',
    );
    for (const machine of ['pc', 'q35'] as const) {
      expect(buildDomainXml({ name: 'big', source, disks, caps: { ...caps, machine } })).toMatch(/device="cdrom"/);
    }
  });

  it('refuses memory, vCPUs, disks and NICs beyond what the guest can have, naming the fix', () => {
    expect(limitError(vmx(['memsize = "99999999999"']))).toBe(
      'The source big has 99999999999 MiB of memory, more than the 25165824 v2v can give a KVM guest: lower the memory size of the source (memSize, in MiB), or check it is not corrupt.',
    );
    expect(limitError(vmx(['numvcpus = "256"']))).toMatch(/has 256 vCPUs, more than the 255 .*numvcpus/);
    // 4 paravirtual SCSI controllers of 64 disks each, as vSphere allows.
    const controllers = [1, 2, 3].map((c) => `scsi${c}.present = "TRUE"`);
    const disks = Array.from({ length: 4 }, (_, c) =>
      Array.from({ length: 64 }, (_, u) => `scsi${c}:${u}.present = "TRUE"\nscsi${c}:${u}.fileName = "d${c}-${u}.vmdk"`),
    ).flat();
    expect(limitError(vmx([...controllers, ...disks]))).toMatch(/has \d{3} disks, more than the 128 .*convert the disks in groups/);
    const nics = Array.from({ length: 33 }, (_, i) => [`ethernet${i}.present = "TRUE"`, `ethernet${i}.virtualDev = "vmxnet3"`]).flat();
    expect(limitError(vmx(nics))).toMatch(/has 33 network adapters, more than the 32 /);
  });
});
