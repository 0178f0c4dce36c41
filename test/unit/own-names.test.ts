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
import {
  createExclusive,
  isRecordedFile,
  lockFileLine,
  lockHeaderLine,
  ownNames,
  OutputReservation,
  parseLock,
} from '../../src/output/reservation.js';
import { currentRunProcess } from '../../src/host/reaper.js';
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
    // Reserved now, before any slow stage: the metadata, and each disk under its final and its copy name; and the run's lock.
    const reserved = inodes(dir);
    expect(Object.keys(reserved)).toEqual(['g-sda', 'g-sda.v2v-partial', 'g-sdb', 'g-sdb.v2v-partial', 'g.v2v-lock', 'g.xml']);

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

describe('a killed run’s reservation is told from a live run’s by its lock (NAME.v2v-lock)', () => {
  /** Rewrites the lock's first line in place (same file): what the lock of a run that has since died, or of another host, looks like. */
  function setOwner(dir: string, change: Record<string, unknown>): void {
    const path = join(dir, 'g.v2v-lock');
    const [first, ...rest] = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [JSON.stringify({ ...(JSON.parse(first!) as object), ...change }), ...rest].join('\n'));
  }

  /** A run's lock file written by hand (no reservation behind it). */
  async function writeLock(dir: string, change: Record<string, unknown> = {}): Promise<string> {
    const path = join(dir, 'g.v2v-lock');
    writeFileSync(path, lockHeaderLine({ ...(await currentRunProcess('r1')), ...change }, new Date()));
    return path;
  }

  it('a dead run’s files are removed with a notice, and the next run proceeds and finishes', async () => {
    const dir = mkdtempSync(join(work, 'stale-'));
    const a = local(dir);
    const aTargets = a.planDisks('g', overlays);
    await a.preflight('g', aTargets, 0);
    copy(aTargets, 'half a disk');
    const lock = parseLock(readFileSync(join(dir, 'g.v2v-lock'), 'utf8'))!;
    expect(lock.owner).toMatchObject({ ...(await currentRunProcess('x')), id: expect.any(String) });
    expect(lock.files.map((f) => f.file).sort()).toEqual(['g-sda', 'g-sda.v2v-partial', 'g-sdb', 'g-sdb.v2v-partial', 'g.xml']);
    const before = inodes(dir);
    // A dies: the pid is someone else's now (another start time).
    setOwner(dir, { startTime: '1' });

    const b = local(dir);
    const notices: string[] = [];
    const bTargets = b.planDisks('g', overlays);
    await b.preflight('g', bTargets, 0, (m) => notices.push(m));
    expect(notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^a v2v run converting g into ${dir} was killed \\(pid ${process.pid}, started \\d{4}-.*Z\\): removed what it left: g-sda, g-sda\\.v2v-partial, g-sdb, g-sdb\\.v2v-partial, g\\.xml$`,
        ),
      ),
    ]);
    const after = inodes(dir);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    // Every name is B's own file now: none is A's (B's lock is a new file too).
    for (const name of Object.keys(after)) expect(readFileSync(join(dir, name), 'utf8').includes('half a disk'), name).toBe(false);
    expect(parseLock(readFileSync(join(dir, 'g.v2v-lock'), 'utf8'))!.owner.startTime).not.toBe('1');
    copy(bTargets, 'disk of run B');
    await b.finish({ name: 'g', source, inspection, caps, targets: bTargets });
    expect(readdirSync(dir).sort()).toEqual(['g-sda', 'g-sdb', 'g.xml']);
    expect(readFileSync(join(dir, 'g-sda'), 'utf8')).toBe('disk of run B');
  });

  it('a disk the dead run had renamed to its final name is removed too; the lock goes after a run, failed or finished', async () => {
    const dir = mkdtempSync(join(work, 'stale-renamed-'));
    const r = new OutputReservation();
    await r.lock(dir, 'g', () => undefined);
    await r.reserve([join(dir, 'g-sda'), join(dir, 'g-sda.v2v-partial')], 0o644, (p) => p);
    writeFileSync(join(dir, 'g-sda.v2v-partial'), 'copied');
    await r.replace(join(dir, 'g-sda.v2v-partial'), join(dir, 'g-sda'));
    setOwner(dir, { pid: 4194399 }); // no such process
    const notices: string[] = [];
    const next = new OutputReservation();
    await next.lock(dir, 'g', (m) => notices.push(m));
    expect(notices[0]).toMatch(/: removed what it left: g-sda$/);
    expect(readdirSync(dir)).toEqual(['g.v2v-lock']);
    await next.discard();
    expect(readdirSync(dir)).toEqual([]);
    const done = new OutputReservation();
    await done.lock(dir, 'g', () => undefined);
    await done.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file someone put in place of a dead run’s file is left alone, and refuses the run with the usual sentence', async () => {
    const dir = mkdtempSync(join(work, 'stale-replaced-'));
    const a = local(dir);
    await a.preflight('g', a.planDisks('g', overlays), 0);
    rmSync(join(dir, 'g-sdb.v2v-partial'));
    writeFileSync(join(dir, 'g-sdb.v2v-partial'), 'not yours');
    setOwner(dir, { startTime: '1' });
    const notices: string[] = [];
    const b = local(dir);
    await expect(b.preflight('g', b.planDisks('g', overlays), 0, (m) => notices.push(m))).rejects.toThrow(
      /g-sdb\.v2v-partial exists: a v2v run is writing it, or one was killed while copying it/,
    );
    expect(notices[0]).toMatch(/removed what it left: g-sda, g-sda\.v2v-partial, g-sdb, g\.xml$/);
    expect(readdirSync(dir)).toEqual(['g-sdb.v2v-partial']);
    expect(readFileSync(join(dir, 'g-sdb.v2v-partial'), 'utf8')).toBe('not yours');
  });

  it('a live run’s lock refuses, with the partial disk’s sentence or the lock’s own; so does another host’s; neither is touched', async () => {
    const dir = mkdtempSync(join(work, 'live-'));
    const a = local(dir);
    await a.preflight('g', a.planDisks('g', overlays), 0);
    const before = inodes(dir);
    const b = local(dir);
    await expect(b.preflight('g', b.planDisks('g', overlays), 0)).rejects.toThrow(/g-sda\.v2v-partial exists: a v2v run is writing it/);
    expect(inodes(dir)).toEqual(before);

    // Only the lock: it refuses by itself.
    const lockOnly = mkdtempSync(join(work, 'live-lock-'));
    const path = await writeLock(lockOnly);
    const text = readFileSync(path, 'utf8');
    const c = local(lockOnly);
    await expect(c.preflight('g', c.planDisks('g', overlays), 0)).rejects.toThrow(
      `${path} exists: a v2v run (pid ${process.pid}) is converting a guest of this name there; once it has finished, run again, or choose another guest name with "-on NAME".`,
    );
    expect(readdirSync(lockOnly)).toEqual(['g.v2v-lock']);
    expect(readFileSync(path, 'utf8')).toBe(text);

    // Another host's run (a shared file system): its process cannot be seen from here, so it counts as live.
    const other = mkdtempSync(join(work, 'other-host-'));
    await writeLock(other, { host: 'elsewhere.example', pid: 4194399 });
    const d = local(other);
    await expect(d.preflight('g', d.planDisks('g', overlays), 0)).rejects.toThrow(
      /a v2v run on host elsewhere\.example \(pid 4194399\) is converting/,
    );
    expect(readdirSync(other)).toEqual(['g.v2v-lock']);
  });

  it('a run of an earlier boot is dead, even with a pid and start time that match a live process now', async () => {
    const dir = mkdtempSync(join(work, 'reboot-'));
    await writeLock(dir, { bootId: '00000000-0000-0000-0000-000000000000' });
    const notices: string[] = [];
    const out = local(dir);
    await out.preflight('g', out.planDisks('g', overlays), 0, (m) => notices.push(m));
    expect(notices).toEqual([expect.stringMatching(/was killed .*: removed what it left$/)]);
    await out.discard?.();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file at the lock’s name that is no v2v lock is refused and left alone', async () => {
    const dir = mkdtempSync(join(work, 'foreign-'));
    writeFileSync(join(dir, 'g.v2v-lock'), 'my notes');
    const out = local(dir);
    await expect(out.preflight('g', out.planDisks('g', overlays), 0)).rejects.toThrow(
      `${join(dir, 'g.v2v-lock')} exists (no v2v lock): remove it, or choose another guest name with "-on NAME".`,
    );
    symlinkSync('/etc/passwd', join(dir, 'h.v2v-lock'));
    const h = local(dir);
    await expect(h.preflight('h', h.planDisks('h', overlays), 0)).rejects.toThrow(/h\.v2v-lock exists \(symbolic link\)/);
    expect(readdirSync(dir).sort()).toEqual(['g.v2v-lock', 'h.v2v-lock']);
    expect(readFileSync(join(dir, 'g.v2v-lock'), 'utf8')).toBe('my notes');
  });

  it('parses a lock: torn lines and names outside the directory are skipped; only the guest’s own names count', () => {
    const header = lockHeaderLine({ id: 'r', pid: 7, startTime: '9', bootId: 'b', host: 'h' }, new Date(0));
    const id = { dev: '1', ino: '2', birth: '3' };
    const text = [
      header.trimEnd(),
      lockFileLine('/d/g-sda', id).trimEnd(),
      JSON.stringify({ file: '../etc/passwd', ...id }),
      JSON.stringify({ file: '..', ...id }),
      JSON.stringify({ file: 'g-sdb', dev: 'x', ino: '2', birth: '3' }),
      lockFileLine('/d/other-sda', id).trimEnd(),
      '{"file":"g-sd',
    ].join('\n');
    const lock = parseLock(text)!;
    expect(lock.owner).toEqual({
      v2vLock: 1,
      id: 'r',
      pid: 7,
      startTime: '9',
      bootId: 'b',
      host: 'h',
      started: '1970-01-01T00:00:00.000Z',
    });
    expect(lock.files).toEqual([
      { file: 'g-sda', ...id },
      { file: 'other-sda', ...id },
    ]);
    expect(ownNames(lock.files, 'g')).toEqual(['g-sda']);
    expect(parseLock('')).toBeUndefined();
    expect(parseLock('{"v2vLock":1}\n')).toBeUndefined();
    expect(
      parseLock(`${JSON.stringify({ v2vLock: 2, id: 'r', pid: 7, startTime: '9', bootId: 'b', host: 'h', started: 'x' })}\n`),
    ).toBeUndefined();
  });

  it('a file is the dead run’s when inode and birth time match, and the device (which may change at a reboot)', () => {
    const rec = { dev: '2049', ino: '12', birth: '1700000000000000000' };
    expect(isRecordedFile(rec, rec, true)).toBe(true);
    expect(isRecordedFile({ ...rec, ino: '13' }, rec, true)).toBe(false);
    expect(isRecordedFile({ ...rec, birth: '1700000000000000001' }, rec, true)).toBe(false);
    expect(isRecordedFile({ ...rec, dev: '2050' }, rec, true)).toBe(false);
    expect(isRecordedFile({ ...rec, dev: '2050' }, rec, false)).toBe(true);
    // No birth time kept by the file system: after a reboot, inode alone is not enough.
    const noBirth = { ...rec, birth: '0' };
    expect(isRecordedFile({ ...noBirth, dev: '2050' }, noBirth, false)).toBe(false);
    expect(isRecordedFile(noBirth, noBirth, false)).toBe(true);
  });
});
