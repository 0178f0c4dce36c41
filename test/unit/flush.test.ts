import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flushToStorage } from '../../src/output/flush.js';
import { nullSinkPath } from '../../src/output/null.js';

describe('flushToStorage: a copied disk is made durable before it is reported copied', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('syncs a regular file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'v2v-flush-'));
    dirs.push(dir);
    const file = join(dir, 'guest-sda.v2v-partial');
    await writeFile(file, Buffer.alloc(1 << 20, 1));
    await expect(flushToStorage(file)).resolves.toBeUndefined();
  });

  it('leaves the null output sink and special files that cannot be synced alone', async () => {
    await expect(flushToStorage(nullSinkPath(1 << 20))).resolves.toBeUndefined();
    await expect(flushToStorage('/dev/null')).resolves.toBeUndefined();
  });

  it('reports other errors (a directory where the disk should be is not silently skipped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'v2v-flush-'));
    dirs.push(dir);
    await expect(flushToStorage(join(dir, 'missing-dir', 'x'))).resolves.toBeUndefined(); // ENOENT: nothing was written there
    await expect(flushToStorage(join(dir, 'file', 'x'))).resolves.toBeUndefined();
    await writeFile(join(dir, 'file'), '');
    await expect(flushToStorage(join(dir, 'file', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
