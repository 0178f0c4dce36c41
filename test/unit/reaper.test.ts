/**
 * Issue #16 item 5, the reaping half, with no process started: the owner
 * mark of a run directory, and the libguestfs socket directory found in an
 * appliance's command line (the reaping itself, with real processes:
 * test/integration/reaper.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guestfsSocketDirs, markRunDir, parseRunOwner, processStat, RUN_OWNER_FILE, runIsAlive } from '../../src/host/reaper.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-reaper-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('run ownership', () => {
  it('markRunDir writes id, pid and start time; the owner is alive while that very process is', async () => {
    const dir = mkdtempSync(join(work, 'mark-'));
    await markRunDir(dir, `${process.pid}-abc`);
    const owner = parseRunOwner(readFileSync(join(dir, RUN_OWNER_FILE), 'utf8'));
    expect(owner).toEqual({ id: `${process.pid}-abc`, pid: process.pid, startTime: (await processStat('self'))!.startTime });
    expect(await runIsAlive(owner!)).toBe(true);
    expect(await runIsAlive({ ...owner!, startTime: '1' })).toBe(false);
    await expect(markRunDir(dir, 'again')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(parseRunOwner('garbage')).toBeUndefined();
  });
});

describe('guestfsSocketDirs', () => {
  it('finds the socket directory in an appliance qemu command line', () => {
    const cmdline = [
      '/usr/bin/qemu-system-x86_64',
      '-global',
      'virtio-blk-pci.scsi=off',
      '-chardev',
      'socket,path=/tmp/libguestfs4vGZAN/guestfsd.sock,id=channel0',
      '-device',
      'virtserialport,chardev=channel0,name=org.libguestfs.channel.0',
      '-append',
      'panic=1 console=ttyS0',
    ].join('\0');
    expect(guestfsSocketDirs(cmdline)).toEqual(['/tmp/libguestfs4vGZAN']);
    expect(guestfsSocketDirs('qemu-img\0convert\0/tmp/libguestfs4vGZAN.qcow2')).toEqual([]);
    expect(guestfsSocketDirs('x\0socket,path=/tmp/notlibguestfs/guestfsd.sock')).toEqual([]);
  });
});
