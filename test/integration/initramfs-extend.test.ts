/**
 * The host side of extending an initramfs without the guest's tools: the
 * newc reader and writer against GNU cpio (real archives, both ways), image
 * splitting on an image laid out like Debian's (uncompressed early archive,
 * then a compressed main one, each compression the kernel takes), and
 * extendInitramfsTools on such an image (the module planning from a
 * modules.dep: test/unit/initramfs-extend.test.ts).
 */
import { mkdtemp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressFile, decompressFile, detectCompression, type Compression } from '../../drivers/compressor.js';
import { imageSegments, listArchives, newcArchiveTail, readEntry } from '../../src/convert/linux/initramfs/cpio.js';
import type { Guestfs } from '../../drivers/guestfish.js';
import { hostGuest } from '../helpers/host-guest.js';
import { extendInitramfsTools, MARKER } from '../../src/convert/linux/initramfs/extend.js';

let dir: string;

/** A GNU cpio newc archive of the given files (relative to a fresh tree), names as `find .` prints them. */
async function gnuCpio(name: string, files: Record<string, string>): Promise<string> {
  const tree = join(dir, `${name}.tree`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), content);
  }
  const list = (await execa('find', ['.'], { cwd: tree })).stdout.split('\n').sort().join('\n');
  const out = join(dir, `${name}.cpio`);
  await execa('cpio', ['--quiet', '-o', '-H', 'newc', '-O', out], { cwd: tree, input: `${list}\n` });
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'v2v-unit-initramfs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('newc archives', () => {
  it('lists what GNU cpio wrote (names, data) and finds its trailer', async () => {
    const path = await gnuCpio('a', { 'conf/modules': 'ahci\n', init: '#!/bin/sh\n', 'usr/lib/modules/6.1/modules.dep': 'kernel/a.ko:\n' });
    const listing = await listArchives(path);
    expect(listing.entries.map((e) => e.name).sort()).toEqual([
      'conf',
      'conf/modules',
      'init',
      'usr',
      'usr/lib',
      'usr/lib/modules',
      'usr/lib/modules/6.1',
      'usr/lib/modules/6.1/modules.dep',
    ]);
    expect(listing.dotSlash).toBe(false); // GNU cpio stores "./conf" as "conf"
    const conf = listing.entries.find((e) => e.name === 'conf/modules');
    expect(conf && (await readEntry(path, conf)).toString()).toBe('ahci\n');
    const bytes = await readFile(path);
    expect(bytes.toString('latin1', listing.trailerOffset + 110, listing.trailerOffset + 120)).toBe('TRAILER!!!');
  });

  it('writes members GNU cpio extracts: the original up to its trailer, then ours win as later files (as the kernel, cpio -u replaces)', async () => {
    const path = await gnuCpio('b', { 'conf/modules': 'ahci\n', init: 'x' });
    const listing = await listArchives(path);
    const original = await readFile(path);
    const tail = newcArchiveTail(
      [
        { name: 'lib', perm: 0o755 },
        { name: 'lib/virtio_blk.ko', perm: 0o644, data: Buffer.from('ELF-ish\0binary\xff') },
        { name: 'conf/modules', perm: 0o644, data: Buffer.from('ahci\nvirtio_blk\n') },
      ],
      { dotSlash: listing.dotSlash, mtime: 1_700_000_000, firstIno: 0x7f000000 },
    );
    const merged = join(dir, 'merged.cpio');
    await writeFile(merged, Buffer.concat([original.subarray(0, listing.trailerOffset), tail]));
    const out = join(dir, 'merged.out');
    await mkdir(out);
    const extract = await execa('cpio', ['-i', '-d', '-u', '--quiet', '-F', merged], { cwd: out, reject: false });
    expect(extract.exitCode, extract.stderr).toBe(0);
    expect(await readFile(join(out, 'conf/modules'), 'utf8')).toBe('ahci\nvirtio_blk\n');
    expect(await readFile(join(out, 'lib/virtio_blk.ko'))).toEqual(Buffer.from('ELF-ish\0binary\xff'));
    expect((await listArchives(merged)).entries.filter((e) => e.name === 'conf/modules')).toHaveLength(2);
  });
});

describe('image segments', () => {
  for (const compression of ['zstd', 'gzip', 'xz', 'lz4'] as Compression[]) {
    it(`splits an early uncompressed archive from a ${compression} main archive, which round-trips`, async () => {
      const early = await gnuCpio(`early-${compression}`, { 'kernel/x86/microcode/GenuineIntel.bin': 'ucode' });
      const main = await gnuCpio(`main-${compression}`, { init: '#!/bin/sh\n', 'scripts/functions': 'f\n' });
      const mainZ = join(dir, `main-${compression}.z`);
      await compressFile(compression, main, mainZ);
      const image = join(dir, `image-${compression}`);
      const earlyBytes = await readFile(early);
      // initramfs-tools pads with zeros between segments; the kernel skips them.
      await writeFile(image, Buffer.concat([earlyBytes, Buffer.alloc(512), await readFile(mainZ)]));
      const segments = await imageSegments(image);
      expect(segments).toEqual([
        { kind: 'cpio', start: 0, end: expect.any(Number) },
        { kind: 'compressed', start: earlyBytes.length + 512, compression },
      ]);
      expect(detectCompression(await readFile(mainZ))).toBe(compression);
      const back = join(dir, `main-${compression}.back`);
      await decompressFile(compression, mainZ, back);
      expect(await readFile(back)).toEqual(await readFile(main));
    });
  }
});

describe('extendInitramfsTools on an initramfs-tools-like image (host tree as the guest)', () => {
  const V = '6.1.0-test';
  const MODULES = [
    'kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/block/virtio_blk.ko',
    'kernel/drivers/ata/ahci.ko',
  ];
  const DEP =
    'kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_ring.ko:\nkernel/drivers/virtio/virtio.ko:\nkernel/drivers/ata/ahci.ko:\n';
  let root: string;

  /** A guest with the modules above and an image holding only ahci (zstd main archive after an early one). */
  async function makeGuest(
    name: string,
    imageModules: Record<string, string> = { [`usr/lib/modules/${V}/kernel/drivers/ata/ahci.ko`]: 'ahci' },
  ): Promise<string> {
    root = join(dir, name);
    for (const m of MODULES) {
      await mkdir(join(root, 'lib/modules', V, m, '..'), { recursive: true });
      await writeFile(join(root, 'lib/modules', V, m), `module ${m}`);
    }
    await writeFile(join(root, 'lib/modules', V, 'modules.dep'), DEP);
    await writeFile(join(root, 'lib/modules', V, 'modules.alias'), 'alias virtio:d00000002v* virtio_blk\n');
    await mkdir(join(root, 'etc/systemd/network'), { recursive: true });
    await writeFile(join(root, 'etc/systemd/network/10-v2v-ens192.link'), '[Match]\nMACAddress=00:0c:29:3a:5b:7c\n[Link]\nName=ens192\n');
    const early = await gnuCpio(`${name}-early`, { 'kernel/x86/microcode/AuthenticAMD.bin': 'u' });
    const main = await gnuCpio(`${name}-main`, {
      init: '#!/bin/sh\n',
      'scripts/functions': 'load_modules() { :; }\n',
      'conf/initramfs.conf': 'MODULES=list\n',
      'conf/modules': 'ahci\n',
      [`usr/lib/modules/${V}/modules.dep`]: 'kernel/drivers/ata/ahci.ko:\n',
      'usr/lib/systemd/network/99-default.link': '[Link]\n',
      ...imageModules,
    });
    const mainZ = `${main}.zst`;
    await compressFile('zstd', main, mainZ);
    await mkdir(join(root, 'boot'), { recursive: true });
    await writeFile(join(root, 'boot', `initrd.img-${V}`), Buffer.concat([await readFile(early), await readFile(mainZ)]));
    return root;
  }

  /** The files of the guest's image as the kernel would leave them (later members win). */
  async function unpackImage(): Promise<string> {
    const image = join(root, 'boot', `initrd.img-${V}`);
    const segments = await imageSegments(image);
    const last = segments.at(-1);
    if (last?.kind !== 'compressed') throw new Error('no compressed segment');
    const z = join(root, 'main.z');
    await writeFile(z, (await readFile(image)).subarray(last.start));
    const cpio = join(root, 'main.cpio');
    await decompressFile('zstd', z, cpio);
    const out = join(root, 'unpacked');
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    const extract = await execa('cpio', ['-i', '-d', '-u', '--quiet', '-F', cpio], { cwd: out, reject: false });
    expect(extract.exitCode, extract.stderr).toBe(0);
    return out;
  }

  const request = (g: Guestfs) => ({
    g,
    tmpdir: dir,
    version: V,
    image: `/boot/initrd.img-${V}`,
    modules: ['virtio_blk'],
    pinFiles: ['/etc/systemd/network/10-v2v-ens192.link'],
  });

  it('adds the modules with their dependencies, the indexes, /conf/modules and the pin; a second run finds it current', async () => {
    const g = hostGuest(await makeGuest('guest-ok'));
    expect(await extendInitramfsTools(request(g))).toEqual({
      status: 'extended',
      modules: ['virtio', 'virtio_ring', 'virtio_blk'],
      pins: ['usr/lib/systemd/network/10-v2v-ens192.link'],
    });
    const out = await unpackImage();
    expect(await readFile(join(out, `usr/lib/modules/${V}/kernel/drivers/block/virtio_blk.ko`), 'utf8')).toBe(
      'module kernel/drivers/block/virtio_blk.ko',
    );
    expect(await readFile(join(out, `usr/lib/modules/${V}/modules.dep`), 'utf8')).toBe(DEP);
    expect(await readFile(join(out, `usr/lib/modules/${V}/modules.alias`), 'utf8')).toContain('virtio_blk');
    expect(await readFile(join(out, 'conf/modules'), 'utf8')).toBe('ahci\nvirtio_blk\n');
    expect(await readFile(join(out, 'usr/lib/systemd/network/10-v2v-ens192.link'), 'utf8')).toContain('Name=ens192');
    expect(await readFile(join(out, 'kernel/x86/microcode/AuthenticAMD.bin'), 'utf8').catch(() => 'early archive kept apart')).toBe(
      'early archive kept apart',
    );
    expect(await readFile(join(out, MARKER), 'utf8')).toContain('virtio_blk');
    // Idempotent: converting the converted guest changes nothing.
    const size = (await readFile(join(root, 'boot', `initrd.img-${V}`))).length;
    expect(await extendInitramfsTools(request(g))).toEqual({ status: 'current' });
    expect((await readFile(join(root, 'boot', `initrd.img-${V}`))).length).toBe(size);
  });

  it("leaves to update-initramfs an image whose modules are not the guest's, or compressed modules its modprobe may not read", async () => {
    const g = hostGuest(await makeGuest('guest-stranger', { [`usr/lib/modules/${V}/kernel/drivers/ata/ahci.ko.zst`]: 'z' }));
    expect(await extendInitramfsTools(request(g))).toEqual({
      status: 'not-understood',
      reason: "its module kernel/drivers/ata/ahci.ko.zst is not in the guest's modules.dep",
    });
    const g2 = hostGuest(await makeGuest('guest-xz'));
    await writeFile(join(root, 'lib/modules', V, 'modules.dep'), DEP.replace('virtio_blk.ko:', 'virtio_blk.ko.xz:'));
    expect(await extendInitramfsTools(request(g2))).toEqual({
      status: 'not-understood',
      reason: 'its modules are not .xz-compressed like kernel/drivers/block/virtio_blk.ko.xz',
    });
  });

  it('adds .ko.zst modules, as they are, to an image of .ko.zst modules (Ubuntu since 23.10, the UEFI+LVM test guest)', async () => {
    const g = hostGuest(await makeGuest('guest-zst', { [`usr/lib/modules/${V}/kernel/drivers/ata/ahci.ko.zst`]: 'ahci' }));
    for (const m of MODULES) await rename(join(root, 'lib/modules', V, m), join(root, 'lib/modules', V, `${m}.zst`));
    await writeFile(join(root, 'lib/modules', V, 'modules.dep'), DEP.replaceAll('.ko', '.ko.zst'));
    expect(await extendInitramfsTools(request(g))).toEqual({
      status: 'extended',
      modules: ['virtio', 'virtio_ring', 'virtio_blk'],
      pins: ['usr/lib/systemd/network/10-v2v-ens192.link'],
    });
    const out = await unpackImage();
    const blk = `usr/lib/modules/${V}/kernel/drivers/block/virtio_blk.ko`;
    expect(await readFile(join(out, `${blk}.zst`), 'utf8')).toBe('module kernel/drivers/block/virtio_blk.ko');
    expect(await readFile(join(out, blk), 'utf8').catch(() => 'absent')).toBe('absent');
    expect(await readFile(join(out, `usr/lib/modules/${V}/modules.dep`), 'utf8')).toContain('virtio_blk.ko.zst: ');
  });

  it("leaves to update-initramfs an image without initramfs-tools' layout", async () => {
    const g = hostGuest(await makeGuest('guest-text'));
    await writeFile(join(root, 'boot', `initrd.img-${V}`), 'usr/lib/modules/x/kernel/a.ko\n');
    expect(await extendInitramfsTools(request(g))).toEqual({
      status: 'not-understood',
      reason: 'neither a cpio archive nor a known compression at byte 0',
    });
  });
});
