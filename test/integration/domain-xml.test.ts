/**
 * The domain XML v2v writes, checked by libvirt's own validator
 * (virt-xml-validate, package libvirt-clients): every golden file (which
 * test/unit/domain-xml.test.ts proves buildDomainXml writes byte for byte),
 * and a guest with 30 SATA disks and a CD-ROM.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import { parseStringPromise } from 'xml2js';
import { type TargetDisk, driveLetters } from '../../src/model.js';
import { buildDomainXml, type DomainXmlInput } from '../../src/output/domain-xml.js';

const FIXTURES = join(import.meta.dirname, '..', 'unit', 'fixtures', 'domain-xml');

const source = testSource;

function disk(dev: string, format: TargetDisk['format'], path: string): TargetDisk {
  return { overlay: `/tmp/overlay-${dev}.qcow2`, path, format, virtualSize: 10 * 2 ** 30, dev };
}

// Required, not optional: the setup script installs libvirt-clients, so a
// missing validator is an environment defect this test must report.
describe('virt-xml-validate accepts every golden file', () => {
  for (const name of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => f.slice(0, -'.xml'.length))) {
    it(name, () => {
      const result = spawnSync('virt-xml-validate', [join(FIXTURES, `${name}.xml`), 'domain'], { encoding: 'utf8' });
      expect(result.error, 'virt-xml-validate must be on PATH (package libvirt-clients)').toBeUndefined();
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    });
  }
});

// libvirt 9.0 (qemu driver, qemu:///embed) defined 30 SATA disks sda..sdad
// plus a CD-ROM sdae (six AHCI controllers added).
describe('buildDomainXml with many devices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'v2v-domain-xml-many-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const targetsOf = (domain: { devices: [{ disk: Array<{ $: { device: string }; target: [{ $: { dev: string; bus: string } }] }> }] }) =>
    domain.devices[0].disk.map((d) => ({ device: d.$.device, ...d.target[0].$ }));
  const cdrom = { kind: 'cdrom', bus: 'ide', controller: 1, unit: 0 } as const;

  it('names a CD-ROM after 30 SATA disks sdae (names go on past sdz), and the XML validates', async () => {
    const input: DomainXmlInput = {
      name: 'many',
      source: source({ removables: [cdrom] }),
      disks: Array.from({ length: 30 }, (_, i) => disk(`vd${driveLetters(i)}`, 'raw', `/var/tmp/many-sd${driveLetters(i)}`)),
      caps: { blockBus: 'sata', netModel: 'e1000', machine: 'q35', domainType: 'qemu', serialConsole: false },
    };
    const xml = buildDomainXml(input);
    const targets = targetsOf((await parseStringPromise(xml)).domain);
    expect(targets).toHaveLength(31);
    expect(targets.slice(25, 27)).toEqual([
      { device: 'disk', dev: 'sdz', bus: 'sata' },
      { device: 'disk', dev: 'sdaa', bus: 'sata' },
    ]);
    expect(targets[30]).toEqual({ device: 'cdrom', dev: 'sdae', bus: 'sata' });
    expect(new Set(targets.map((t) => t.dev)).size).toBe(31);
    const file = join(dir, 'many.xml');
    writeFileSync(file, xml);
    const result = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});
