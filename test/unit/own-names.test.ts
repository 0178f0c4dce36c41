/**
 * Issue #16 items 1 and 7, on real files in a temp dir: a run owns the output
 * names it reserved in preflight (a second run with the same names fails
 * there, and neither run ever replaces or deletes a file it did not create);
 * a symlink at a target name is refused; a derived guest name follows the
 * -on rule; an -os that is a file is said to be one.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../src/errors.js';
import type { GuestCaps, Inspection, Source } from '../../src/model.js';
import { jsonOutput } from '../../src/output/json.js';
import { localOutput } from '../../src/output/local.js';
import { qemuOutput } from '../../src/output/qemu.js';
import { createExclusive, OutputReservation } from '../../src/output/reservation.js';
import { guestName } from '../../src/output/guest-name.js';
import type { Output } from '../../src/output/types.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-own-names-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const source: Source = {
  warnings: [],
  name: 'g',
  vcpus: 1,
  memoryMiB: 512,
  firmware: 'bios',
  secureBoot: false,
  disks: [{ unit: 0, controller: 0, bus: 'scsi', path: '/vm/g.vmdk', format: 'vmdk' }],
  removables: [],
  nics: [],
};
const inspection: Inspection = {
  type: 'linux',
  root: '/dev/sda1',
  distro: 'debian',
  majorVersion: 12,
  minorVersion: 0,
  productName: '12.0',
  hostname: 'g',
  arch: 'x86_64',
  packageFormat: 'deb',
  packageManagement: 'apt',
  mounts: [],
  packages: [],
  kernels: [],
  bootloader: 'grub2',
  firmware: 'bios',
};
const caps: GuestCaps = { netModel: 'virtio', blockBus: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };
const overlays = [0, 1].map((i) => ({ path: `/t/o${i}.qcow2`, virtualSize: 5, backingFormat: 'vmdk', disk: source.disks[0]! }));

function local(dir: string): Output {
  return localOutput({
    mode: 'local',
    storage: dir,
    format: 'raw',
    allocation: 'sparse',
    networkMapping: { networks: [], bridges: [], macs: [] },
  });
}

/** Name → inode of every file in `dir`. */
function inodes(dir: string): Record<string, number> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((e) => [e, lstatSync(join(dir, e)).ino]),
  );
}

/** What the copy stage does: writes the disk under the name the output gave it for the copy. */
function copy(targets: ReturnType<Output['planDisks']>, text: string): void {
  for (const t of targets) writeFileSync(t.partialPath ?? t.path, text);
}

describe('two runs with the same name into the same directory (item 1)', () => {
  it("the second fails in preflight and neither its failure nor its cleanup touches the first run's files", async () => {
    const dir = mkdtempSync(join(work, 'race-'));
    const a = local(dir);
    const aTargets = a.planDisks('g', overlays);
    await a.preflight('g', aTargets, 0);
    // Reserved now, before any slow stage: the metadata, and each disk under its final and its copy name.
    const reserved = inodes(dir);
    expect(Object.keys(reserved)).toEqual(['g-sda', 'g-sda.v2v-partial', 'g-sdb', 'g-sdb.v2v-partial', 'g.xml']);

    const b = local(dir);
    const bTargets = b.planDisks('g', overlays);
    await expect(b.preflight('g', bTargets, 0)).rejects.toThrow(PreflightError);
    await expect(b.preflight('g', bTargets, 0)).rejects.toThrow(
      /g-sda\.v2v-partial exists: a v2v run is writing it, or one was killed while copying it; once no run writes there, remove it, or choose another guest name with "-on NAME"/,
    );
    await b.discard?.(); // what the failed run's cleanup does
    expect(inodes(dir)).toEqual(reserved);

    copy(aTargets, 'disk of run A');
    const written = await a.finish({ name: 'g', source, inspection, caps, targets: aTargets });
    expect(written).toEqual([join(dir, 'g.xml'), join(dir, 'g-sda'), join(dir, 'g-sdb')]);
    expect(readdirSync(dir).sort()).toEqual(['g-sda', 'g-sdb', 'g.xml']);
    expect(readFileSync(join(dir, 'g-sda'), 'utf8')).toBe('disk of run A');
    expect(readFileSync(join(dir, 'g.xml'), 'utf8')).toContain(`<source file="${join(dir, 'g-sda')}"/>`);
    // A late run finds finished files: refused, and its cleanup removes nothing.
    const c = local(dir);
    await expect(c.preflight('g', c.planDisks('g', overlays), 0)).rejects.toThrow(
      /g\.xml already exists: remove it, or choose another guest name with "-on NAME"/,
    );
    await c.discard?.();
    expect(readdirSync(dir).sort()).toEqual(['g-sda', 'g-sdb', 'g.xml']);
  });

  it('a leftover copy name of a killed run is refused with what to do', async () => {
    const dir = mkdtempSync(join(work, 'leftover-'));
    writeFileSync(join(dir, 'g-sdb.v2v-partial'), 'half a disk');
    const out = local(dir);
    await expect(out.preflight('g', out.planDisks('g', overlays), 0)).rejects.toThrow(
      /g-sdb\.v2v-partial exists: a v2v run is writing it, or one was killed while copying it/,
    );
    expect(readdirSync(dir)).toEqual(['g-sdb.v2v-partial']);
  });

  it('a failed run removes only what it created: never a file someone put in place of its own', async () => {
    const dir = mkdtempSync(join(work, 'discard-'));
    const out = local(dir);
    const targets = out.planDisks('g', overlays);
    await out.preflight('g', targets, 0);
    // Another program replaces one reserved name with its own file.
    rmSync(join(dir, 'g-sdb.v2v-partial'));
    writeFileSync(join(dir, 'g-sdb.v2v-partial'), 'not yours');
    await out.discard?.();
    expect(readdirSync(dir)).toEqual(['g-sdb.v2v-partial']);
    expect(readFileSync(join(dir, 'g-sdb.v2v-partial'), 'utf8')).toBe('not yours');
  });

  it("the metadata is never written over a file that is not the run's own reservation", async () => {
    for (const [output, meta] of [
      [(d: string) => local(d), 'g.xml'],
      [(d: string) => jsonOutput({ storage: d, format: 'raw', allocation: 'sparse' }), 'g.json'],
      [(d: string) => qemuOutput({ storage: d, format: 'raw', allocation: 'sparse' }), 'g.sh'],
    ] as const) {
      const dir = mkdtempSync(join(work, 'meta-'));
      const out = output(dir);
      const targets = out.planDisks('g', overlays);
      await out.preflight('g', targets, 0);
      copy(targets, 'disk');
      rmSync(join(dir, meta));
      writeFileSync(join(dir, meta), "someone else's");
      await expect(out.finish({ name: 'g', source, inspection, caps, targets })).rejects.toThrow(/no longer the file this run reserved/);
      expect(readFileSync(join(dir, meta), 'utf8')).toBe("someone else's");
      await out.discard?.();
      expect(readdirSync(dir)).toEqual([meta]);
    }
  });

  it("a disk is never renamed over a final name that is not the run's own", async () => {
    const dir = mkdtempSync(join(work, 'final-'));
    const out = local(dir);
    const targets = out.planDisks('g', overlays);
    await out.preflight('g', targets, 0);
    copy(targets, 'disk');
    rmSync(join(dir, 'g-sda'));
    writeFileSync(join(dir, 'g-sda'), 'theirs');
    await expect(out.finish({ name: 'g', source, inspection, caps, targets })).rejects.toThrow(
      /g-sda is no longer the file this run reserved/,
    );
    await out.discard?.();
    expect(readdirSync(dir)).toEqual(['g-sda']);
    expect(readFileSync(join(dir, 'g-sda'), 'utf8')).toBe('theirs');
  });

  it('createExclusive creates only a missing name, and never through a symlink', async () => {
    const dir = mkdtempSync(join(work, 'excl-'));
    await (await createExclusive(join(dir, 'a'), 0o644)).handle.close();
    await expect(createExclusive(join(dir, 'a'), 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'link'));
    await expect(createExclusive(join(dir, 'link'), 0o644)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readdirSync(dir).sort()).toEqual(['a', 'link']);
    // A reservation that fails half-way gives back what it took.
    const r = new OutputReservation();
    await expect(r.reserve([join(dir, 'b'), join(dir, 'a')], 0o644, (p) => `${p} is taken`)).rejects.toThrow(`${join(dir, 'a')} is taken`);
    expect(readdirSync(dir).sort()).toEqual(['a', 'link']);
  });
});

describe('preflight refuses names that would fail later or write elsewhere (item 7)', () => {
  it('refuses a dangling symlink at a target name and creates nothing through it', async () => {
    const dir = mkdtempSync(join(work, 'symlink-'));
    const victim = join(work, `victim-${Date.now()}`);
    symlinkSync(victim, join(dir, 'g-sda'));
    const out = local(dir);
    await expect(out.preflight('g', out.planDisks('g', overlays), 0)).rejects.toThrow(
      /g-sda is a symbolic link, and v2v never writes through one: remove it/,
    );
    expect(() => statSync(victim)).toThrow();
    expect(readdirSync(dir)).toEqual(['g-sda']);
  });

  it('says that an -os which is a file is not a directory', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    await expect(local(file).preflight('g', [], 0)).rejects.toThrow(
      `The output path ${file} is not a directory: pass a directory with "-os DIR".`,
    );
    await expect(local(join(work, 'missing')).preflight('g', [], 0)).rejects.toThrow(/does not exist: create it/);
  });

  it('validates a name derived from the source with the -on rule', () => {
    expect(guestName(undefined, 'web 01 (prod)')).toBe('web_01__prod_');
    expect(guestName('other', 'x'.repeat(300))).toBe('other');
    expect(() => guestName(undefined, 'x'.repeat(300))).toThrow(PreflightError);
    expect(() => guestName(undefined, 'x'.repeat(300))).toThrow(
      /gives the guest name x{40}\.\.\. \(300 characters\), which is not valid .*: choose one with "-on NAME"/,
    );
    expect(guestName(undefined, 'x'.repeat(100))).toBe('x'.repeat(100));
    expect(() => guestName(undefined, '..')).toThrow(/guest name "\.\.", which is not valid/);
    expect(() => guestName(undefined, '')).toThrow(PreflightError);
  });
});
