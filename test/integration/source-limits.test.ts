/**
 * Hard limits checked in the source stage (issue #16 item 9): a source at
 * every limit is accepted and its domain XML validates with the real
 * virt-xml-validate (the refusals: test/unit/source-limits.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkSourceLimits, SOURCE_LIMITS } from '../../src/input/limits.js';
import { parseVmx } from '../../src/input/vmx/parse.js';
import type { GuestCaps } from '../../src/model.js';
import { buildDomainXml } from '../../src/output/domain-xml.js';

const caps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };

function vmx(lines: string[]): string {
  return ['displayName = "big"', 'scsi0.present = "TRUE"', 'scsi0:0.present = "TRUE"', 'scsi0:0.fileName = "big.vmdk"', ...lines].join(
    '\n',
  );
}

describe('source limits', () => {
  it('accepts a source at every limit, and its XML validates', () => {
    const source = parseVmx(vmx([`memsize = "${SOURCE_LIMITS.memoryMiB}"`, `numvcpus = "${SOURCE_LIMITS.vcpus}"`]), '/vm/big.vmx');
    checkSourceLimits(source, 'The source big');
    const dir = mkdtempSync(join(tmpdir(), 'v2v-limits-'));
    try {
      const file = join(dir, 'big.xml');
      writeFileSync(
        file,
        buildDomainXml({
          name: 'big',
          source,
          disks: [{ overlay: '/o', path: '/out/big-sda', format: 'raw', virtualSize: 2 ** 30, dev: 'vda' }],
          caps,
        }),
      );
      expect(execaSync('virt-xml-validate', [file, 'domain'], { reject: false }).exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
