/**
 * driverTreeFiles: the listing of a `--virtio-win` directory never leaves
 * the tree through a symlink, on real links made here. (The listing it
 * replaced, `readdir(dir, { recursive: true, withFileTypes: true })` keeping
 * `isFile()` entries, did not enter linked directories on Node 20.20 but
 * dropped every linked file, inside the tree too; without `withFileTypes`
 * the same readdir follows links into directories.)
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverTreeFiles } from '../../src/convert/windows/virtio-win-location.js';

let work: string;
let tree: string;
let outside: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-virtio-tree-'));
  outside = join(work, 'elsewhere');
  await mkdir(join(outside, 'viostor/2k19/amd64'), { recursive: true });
  await writeFile(join(outside, 'viostor/2k19/amd64/viostor.sys'), 'not in the tree');
  await writeFile(join(outside, 'secret.txt'), 'not in the tree');
  tree = join(work, 'virtio-win');
  await mkdir(join(tree, 'drivers/by-driver/NetKVM/2k19/amd64'), { recursive: true });
  await mkdir(join(tree, 'drivers/by-os/amd64/2k19'), { recursive: true });
  await writeFile(join(tree, 'drivers/by-driver/NetKVM/2k19/amd64/netkvm.sys'), 'driver');
  // A link to a file inside the tree (as the virtio-win package links drivers): kept.
  await symlink('../../../by-driver/NetKVM/2k19/amd64/netkvm.sys', join(tree, 'drivers/by-os/amd64/2k19/netkvm.sys'));
  // Links out of the tree, to a file and to a directory; a dangling link; two loops, one to "/".
  await symlink(join(outside, 'secret.txt'), join(tree, 'secret.txt'));
  await symlink(outside, join(tree, 'drivers/by-driver/viostor-elsewhere'));
  await symlink(join(tree, 'nowhere'), join(tree, 'dangling.sys'));
  await symlink('.', join(tree, 'loop'));
  await symlink('/', join(tree, 'root'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('driverTreeFiles', () => {
  it('lists the real files and the links to files inside the tree, and nothing through a link leading out of it or looping', async () => {
    const started = Date.now();
    expect((await driverTreeFiles(tree)).sort()).toEqual([
      'drivers/by-driver/NetKVM/2k19/amd64/netkvm.sys',
      'drivers/by-os/amd64/2k19/netkvm.sys',
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
