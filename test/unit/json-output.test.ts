import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../src/errors.js';
import type { GuestCaps, Inspection, Source, TargetDisk } from '../../src/model.js';
import { buildJsonDocument, jsonOutput, JSON_OUTPUT_VERSION } from '../../src/output/json.js';
import { libvirtOutput } from '../../src/output/libvirt.js';
import { nullOutput, nullSinkPath } from '../../src/output/null.js';
import type { FinishInput } from '../../src/output/types.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-json-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Keys deliberately out of alphabetical order: the document must not depend on construction order.
const source: Source = {
  warnings: [],
  name: 'web01',
  vcpus: 2,
  memoryMiB: 2048,
  firmware: 'bios',
  secureBoot: false,
  disks: [{ unit: 0, controller: 0, bus: 'scsi', path: '/vm/web01.vmdk', format: 'vmdk' }],
  removables: [],
  nics: [{ network: 'VM Network', mac: '00:50:56:aa:bb:01', model: 'vmxnet3' }],
};
const inspection: Inspection = {
  type: 'linux',
  root: '/dev/sda1',
  distro: 'debian',
  majorVersion: 12,
  minorVersion: 0,
  productName: 'Debian GNU/Linux 12 (bookworm)',
  hostname: 'web01',
  arch: 'x86_64',
  packageFormat: 'deb',
  packageManagement: 'apt',
  mounts: [{ mountpoint: '/', device: '/dev/sda1' }],
  packages: [],
  kernels: [{ version: '6.1.0-28-amd64', hasVirtio: true }],
  bootloader: 'grub2',
  firmware: 'bios',
};
const caps: GuestCaps = { netModel: 'virtio', blockBus: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };
const targets: TargetDisk[] = [
  { overlay: '/tmp/v2v.x/o0.qcow2', path: '/out/web01-sda', format: 'raw', virtualSize: 10737418240, dev: 'vda' },
];
const input: FinishInput = { name: 'web01', source, inspection, caps, targets };

/** Every object key path in document order, e.g. "source.disks.0.bus". */
function keyOrder(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}${key}`, ...keyOrder(child, `${prefix}${key}.`)]);
}

describe('buildJsonDocument', () => {
  const text = buildJsonDocument(input);
  const document = JSON.parse(text) as Record<string, unknown>;

  it('has the documented top-level keys in order, and the whole model', () => {
    expect(Object.keys(document)).toEqual(['version', 'name', 'source', 'inspection', 'caps', 'disks', 'networks', 'guestNetwork']);
    expect(document['version']).toBe(JSON_OUTPUT_VERSION);
    expect(document['source']).toEqual(source);
    expect(document['inspection']).toEqual(inspection);
    expect(document['caps']).toEqual(caps);
  });
  it('leaves out the temporary overlay path from the disks', () => {
    expect(document['disks']).toEqual([{ dev: 'vda', format: 'raw', path: '/out/web01-sda', virtualSize: 10737418240 }]);
    expect(text).not.toContain('o0.qcow2');
  });
  it('sorts keys inside every nested object', () => {
    for (const section of ['source', 'inspection', 'caps', 'disks', 'networks', 'guestNetwork']) {
      const paths = keyOrder(document[section]);
      const siblings = new Map<string, string[]>();
      for (const path of paths) {
        const cut = path.lastIndexOf('.');
        const parent = cut < 0 ? '' : path.slice(0, cut);
        siblings.set(parent, [...(siblings.get(parent) ?? []), path.slice(cut + 1)]);
      }
      for (const keys of siblings.values()) {
        if (keys.every((k) => /^\d+$/.test(k))) continue; // array indexes
        expect(keys).toEqual([...keys].sort());
      }
    }
  });
  it('is byte-stable whatever the construction order, 2-space indented with a final newline', () => {
    const reordered: FinishInput = {
      targets,
      caps: { ...caps },
      inspection: { ...inspection },
      source: { ...source, name: 'web01' },
      name: 'web01',
    };
    expect(buildJsonDocument(reordered)).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "version": 1,\n');
  });
  it('records where each NIC goes, with -n/-b/--mac applied', () => {
    expect(document['networks']).toEqual([{ mac: '00:50:56:aa:bb:01', model: 'virtio', name: 'default', type: 'network' }]);
    const mapped = JSON.parse(buildJsonDocument(input, { networks: [], bridges: ['VM Network:br0'], macs: [] })) as { networks: unknown };
    expect(mapped.networks).toEqual([{ mac: '00:50:56:aa:bb:01', model: 'virtio', name: 'br0', type: 'bridge' }]);
  });
  it('reports what the guest network config uses and what was pinned per NIC (guestNetwork), [] when unknown', () => {
    expect(document['guestNetwork']).toEqual([]);
    const report = {
      mac: '00:50:56:aa:bb:01',
      names: ['ens192'],
      matchedBy: 'pci-slot' as const,
      pinned: 'ens192',
      files: ['/etc/systemd/network/10-v2v-ens192.link'],
      staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: [] }],
      source: 'guest' as const,
    };
    const withNetwork = JSON.parse(buildJsonDocument({ ...input, network: [report] })) as { guestNetwork: unknown };
    expect(withNetwork.guestNetwork).toEqual([report]);
  });
});

describe('jsonOutput', () => {
  it('writes NAME.json next to the disks and returns both', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    const output = jsonOutput({ storage: dir, format: 'raw', allocation: 'sparse' });
    const planned = output.planDisks('web01', [{ path: '/t/o0.qcow2', virtualSize: 7, backingFormat: 'vmdk', disk: source.disks[0]! }]);
    expect(planned.map((t) => t.path)).toEqual([join(dir, 'web01-sda')]);
    await output.preflight('web01', planned, 0);
    const written = await output.finish({ ...input, targets: planned });
    expect(written).toEqual([join(dir, 'web01.json'), join(dir, 'web01-sda')]);
    expect(JSON.parse(readFileSync(join(dir, 'web01.json'), 'utf8'))).toMatchObject({
      name: 'web01',
      disks: [{ path: join(dir, 'web01-sda') }],
    });
  });
  it('refuses an existing NAME.json and too little space before anything runs', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    const output = jsonOutput({ storage: dir, format: 'raw', allocation: 'sparse' });
    await expect(output.preflight('web01', [], 2 ** 60)).rejects.toThrow(/Not enough space .* free some space or pass another "-os DIR"/);
    writeFileSync(join(dir, 'web01.json'), '{}');
    await expect(output.preflight('web01', [], 0)).rejects.toThrow(PreflightError);
  });
});

describe('nullOutput', () => {
  it("copies into a raw null-co sink of each disk's size, needs nothing and keeps nothing", async () => {
    const output = nullOutput();
    const planned = output.planDisks('web01', [
      { path: '/t/o0.qcow2', virtualSize: 3 * 2 ** 30, backingFormat: 'vmdk', disk: source.disks[0]! },
    ]);
    expect(planned).toEqual([
      {
        overlay: '/t/o0.qcow2',
        path: 'json:{"driver":"raw","file":{"driver":"null-co","size":3221225472}}',
        format: 'raw',
        virtualSize: 3 * 2 ** 30,
        dev: 'vda',
        existing: true,
      },
    ]);
    expect(nullSinkPath(1)).toBe('json:{"driver":"raw","file":{"driver":"null-co","size":1}}');
    await expect(output.preflight('web01', planned, 2 ** 60)).resolves.toBeUndefined();
    await expect(output.finish({ ...input, targets: planned })).resolves.toEqual([]);
  });
});

describe('libvirtOutput without libvirt', () => {
  it('needs prepare() before planDisks, since disk paths live in the pool directory', () => {
    const output = libvirtOutput({ uri: 'test:///default', pool: 'default', format: 'raw', allocation: 'sparse' });
    expect(() => output.planDisks('g', [])).toThrow(/prepare\(\) must run before planDisks/);
    expect(output.describe).toBe('libvirt storage pool default at test:///default');
  });
});
