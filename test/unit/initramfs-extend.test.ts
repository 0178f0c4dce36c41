/**
 * The host side of extending an initramfs, what needs no program: an image
 * that is neither cpio nor compressed, and the module planning from a
 * modules.dep (against GNU cpio and the compressors:
 * test/integration/initramfs-extend.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageSegments } from '../../src/convert/linux/initramfs/cpio.js';
import {
  moduleClosure,
  moduleName,
  parseModulesBuiltin,
  parseModulesDep,
  pinDirectoryInImage,
  withConfModules,
} from '../../src/convert/linux/initramfs/extend.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'v2v-unit-initramfs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('image segments', () => {
  it('calls a file that is neither cpio nor compressed "unknown" (a text file)', async () => {
    const path = join(dir, 'text');
    await writeFile(path, 'usr/lib/modules/5.15/kernel/a.ko\n');
    expect(await imageSegments(path)).toEqual([{ kind: 'compressed', start: 0, compression: 'unknown' }]);
  });
});

describe('module planning', () => {
  const dep = parseModulesDep(
    [
      'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio_ring.ko:',
      'kernel/drivers/virtio/virtio.ko:',
      'kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz',
      'kernel/net/core/failover.ko.xz:',
      'kernel/drivers/ata/pata-acpi.ko:',
    ].join('\n'),
  );

  it('names modules as modprobe does', () => {
    expect(moduleName('kernel/drivers/ata/pata-acpi.ko')).toBe('pata_acpi');
    expect(moduleName('kernel/drivers/net/virtio_net.ko.zst')).toBe('virtio_net');
    expect(dep.get('pata_acpi')?.path).toBe('kernel/drivers/ata/pata-acpi.ko');
  });

  it('gives each module after its dependencies, once; built-ins need no file; unknown names are reported', () => {
    const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio_pci.ko\n');
    expect(moduleClosure(dep, builtin, ['virtio_blk', 'virtio_net', 'virtio_pci', 'virtio_scsi'])).toEqual({
      paths: [
        'kernel/drivers/virtio/virtio.ko',
        'kernel/drivers/virtio/virtio_ring.ko',
        'kernel/drivers/block/virtio_blk.ko',
        'kernel/net/core/failover.ko.xz',
        'kernel/drivers/net/net_failover.ko.xz',
        'kernel/drivers/net/virtio_net.ko.xz',
      ],
      unknown: ['virtio_scsi'],
    });
  });

  it('adds to /conf/modules only the names it lacks (comments ignored)', () => {
    expect(withConfModules('# comment virtio_blk\nahci\nvirtio_net\n', ['virtio_blk', 'virtio_net'])).toBe(
      '# comment virtio_blk\nahci\nvirtio_net\nvirtio_blk\n',
    );
    expect(withConfModules('ahci', ['ahci'])).toBe('ahci');
    expect(withConfModules('', ['virtio_pci'])).toBe('virtio_pci\n');
  });

  it('puts pins where the udev hook copies them, if the image has that directory', () => {
    const names = new Set(['usr/lib/systemd/network', 'usr/lib/udev/rules.d']);
    expect(pinDirectoryInImage(names, '/etc/systemd/network/10-v2v-ens192.link')).toBe('usr/lib/systemd/network');
    expect(pinDirectoryInImage(names, '/etc/udev/rules.d/70-persistent-net.rules')).toBe('usr/lib/udev/rules.d');
    expect(pinDirectoryInImage(new Set(['lib/udev/rules.d']), '/etc/systemd/network/10-v2v-ens192.link')).toBeUndefined();
  });
});
