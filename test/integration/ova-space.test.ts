/**
 * OVA extraction within its budget (issue #16 item 6), on a real 8 MiB
 * tmpfs as the run's temp dir (mounted here: the tests run as root): the
 * declared size is checked against free space before anything is
 * extracted, and a zip that declares less than it holds stops with "no
 * space", not an unrelated error.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanups } from '../../src/host/cleanup.js';
import { PreflightError } from '../../src/errors.js';
import { ovaInput } from '../../src/input/ova/input.js';
import { declaredSize, listCommand } from '../../src/input/ova/archive.js';

const MiB = 2 ** 20;
let work: string;
let small: string;
/** What the last failed load left in its extraction directory. */
let lastLeft: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'v2v-ova-space-'));
  small = path.join(work, 'small');
  await mkdir(small);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
});

afterAll(async () => {
  await execa('umount', [small], { reject: false });
  await rm(work, { recursive: true, force: true });
});

/** A tiny OVF naming one disk file. */
const OVF = `<?xml version="1.0"?><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><References><File ovf:href="big.img" ovf:id="f1"/></References><DiskSection><Info>d</Info><Disk ovf:capacity="32" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="d1" ovf:fileRef="f1"/></DiskSection><VirtualSystem ovf:id="big"><Info>v</Info><Name>big</Name><VirtualHardwareSection><Info>h</Info><Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></Item><Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item></VirtualHardwareSection></VirtualSystem></Envelope>`;

async function loadError(ova: string): Promise<Error> {
  const run = { tmpdir: await mkdtemp(path.join(small, 'run-')), cleanup: new Cleanups() };
  const error = await ovaInput(ova)
    .load(run)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  // What was extracted is left for the check below; the next test starts from an empty tmpfs.
  const left = await readdir(path.join(run.tmpdir, 'ova')).catch(() => []);
  await rm(run.tmpdir, { recursive: true, force: true });
  lastLeft = left;
  expect(error).toBeInstanceOf(PreflightError);
  return error as Error;
}

describe('OVA extraction space', () => {
  it('refuses a 32 MiB gzip OVA (a few KiB) before extracting anything into 8 MiB', async () => {
    const src = path.join(work, 'bomb');
    await mkdir(src);
    await writeFile(path.join(src, 'big.ovf'), OVF);
    await writeFile(path.join(src, 'big.img'), Buffer.alloc(32 * MiB));
    const ova = path.join(work, 'bomb.ova');
    await execa('tar', ['-czf', ova, '-C', src, 'big.ovf', 'big.img']);
    expect((await readFile(ova)).length).toBeLessThan(256 * 1024);
    const { stdout } = await execa(listCommand(ova, 'tar').program, listCommand(ova, 'tar').args);
    expect(declaredSize(stdout, 'tar')).toBe(32 * MiB + OVF.length);
    const error = await loadError(ova);
    expect(error.message).toMatch(
      /^Not enough space for extracting the OVA .*bomb\.ova in .*small\/run-\w+\/ova: 32\.0 MiB needed, [0-9.]+ MiB free; free space there or point TMPDIR at a larger filesystem\.$/,
    );
    expect(lastLeft).toEqual([]); // nothing was extracted
  });

  it('stops a zip that declares less than it holds with "no space"', async () => {
    const src = path.join(work, 'liar');
    await mkdir(src);
    await writeFile(path.join(src, 'big.ovf'), OVF);
    await writeFile(path.join(src, 'big.img'), Buffer.alloc(32 * MiB));
    const ova = path.join(work, 'liar.ova');
    await execa('zip', ['-q', ova, 'big.ovf', 'big.img'], { cwd: src });
    // Make the central directory claim 1000 bytes for big.img (its uncompressed size field).
    const zip = await readFile(ova);
    const central = findCentral(zip, 'big.img');
    expect(central).toBeGreaterThan(0);
    zip.writeUInt32LE(1000, central + 24);
    await writeFile(ova, zip);
    const { stdout } = await execa(listCommand(ova, 'zip').program, listCommand(ova, 'zip').args);
    expect(declaredSize(stdout, 'zip')).toBeLessThan(8 * MiB);
    const error = await loadError(ova);
    expect(error.message).toMatch(
      /^No space left in .*small\/run-\w+\/ova while extracting the OVA .*liar\.ova, whose members are larger than it declares: free space there/,
    );
  });
});

describe('gzip disk decompression space', () => {
  /** An OVF directory (outside the small tmpfs) whose disk is 32 MiB of zeros, gzip-compressed, with the trailer's size set to `isize`. */
  async function gzipOvf(name: string, isize?: number): Promise<string> {
    const dir = path.join(work, name);
    await mkdir(dir);
    await writeFile(path.join(dir, 'big.ovf'), OVF.replace('ovf:href="big.img"', 'ovf:href="big.img" ovf:compression="gzip"'));
    const gz = gzipSync(Buffer.alloc(32 * MiB));
    if (isize !== undefined) gz.writeUInt32LE(isize, gz.length - 4);
    await writeFile(path.join(dir, 'big.img'), gz);
    return dir;
  }

  it('refuses a disk whose gzip trailer says 32 MiB before decompressing into 8 MiB', async () => {
    const error = await loadError(await gzipOvf('gz-honest'));
    expect(error.message).toMatch(
      /^Not enough space for decompressing big\.img of the OVA .*gz-honest in .*small\/run-\w+\/gunzip: 32\.0 MiB needed, [0-9.]+ MiB free; free space there or point TMPDIR/,
    );
  });

  it('stops a disk whose gzip trailer lies with "No space left"', async () => {
    const error = await loadError(await gzipOvf('gz-liar', 1000));
    expect(error.message).toMatch(
      /^No space left in .*small\/run-\w+\/gunzip while decompressing big\.img of the OVA .*gz-liar: free space there/,
    );
  });
});

/** Offset of the central directory header of `name` in a zip. */
function findCentral(zip: Buffer, name: string): number {
  for (let at = zip.indexOf('PK\x01\x02', 0, 'latin1'); at >= 0; at = zip.indexOf('PK\x01\x02', at + 4, 'latin1')) {
    const nameLength = zip.readUInt16LE(at + 28);
    if (zip.toString('latin1', at + 46, at + 46 + nameLength) === name) return at;
  }
  return -1;
}
