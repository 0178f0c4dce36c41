/**
 * The target space check asks for what the copy will allocate: with the real
 * qemu-img, a 1 GiB image holding 10 MiB of data needs ~10 MiB as sparse raw
 * or qcow2 (and the sparse raw qemu-img then writes fits in it), 1 GiB when
 * preallocated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCommand, measure } from '../../drivers/qemu-img.js';
import { measureFormat, targetBytesNeeded } from '../../src/host/disk-space.js';

const MiB = 2 ** 20;
const work = mkdtempSync(join(tmpdir(), 'v2v-space-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const image = join(work, 'overlay.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
execFileSync('qemu-io', ['-c', 'write -P 0x5a 0 10M', '-c', 'write -P 0x33 512M 1M', image]);

/** What preflight reserves for this image as a target of `format`/`allocation`. */
async function needed(format: 'raw' | 'qcow2', allocation: 'sparse' | 'preallocated'): Promise<number> {
  return targetBytesNeeded(await measure(image, 'qcow2', measureFormat(format, allocation)), allocation);
}

describe('target space needed', () => {
  it('is the data plus a margin for sparse outputs, the virtual size for preallocated', async () => {
    for (const format of ['raw', 'qcow2'] as const) {
      const sparse = await needed(format, 'sparse');
      expect(sparse).toBeGreaterThanOrEqual(11 * MiB);
      expect(sparse).toBeLessThan(13 * MiB);
      expect(await needed(format, 'preallocated')).toBeGreaterThanOrEqual(1024 * MiB);
    }
  });
  it('covers what a sparse raw copy really allocates', async () => {
    const target = join(work, 'target.raw');
    const copy = convertCommand({ source: image, sourceFormat: 'qcow2', target, targetFormat: 'raw' });
    execFileSync(copy.program, copy.args);
    const allocated = statSync(target).blocks * 512;
    expect(allocated).toBeGreaterThanOrEqual(11 * MiB);
    expect(allocated).toBeLessThanOrEqual(await needed('raw', 'sparse'));
  });
});

describe('copy progress lines', () => {
  it('count the bytes really written when the target is a file, else the share of the virtual size', async () => {
    const { formatProgress, allocatedBytes } = await import('../../stages/copy.js');
    expect(formatProgress(50, 2 * 1024 * MiB, 10_000, 360 * MiB)).toBe(
      '50.0% (360.0 MiB written of 2.0 GiB virtual, 36.0 MiB/s, ETA 10 s)',
    );
    expect(formatProgress(100, 2 * 1024 * MiB, 20_000, 720 * MiB)).toBe('100.0% (720.0 MiB written of 2.0 GiB virtual, 36.0 MiB/s)');
    expect(formatProgress(25, 1024 * MiB, 5_000)).toBe('25.0% (256.0 MiB of 1.0 GiB, 51.2 MiB/s, ETA 15 s)');
    // The sparse raw target written above: its allocation, not its 1 GiB size.
    const written = allocatedBytes(join(work, 'target.raw'));
    expect(written).toBeGreaterThanOrEqual(11 * MiB);
    expect(written).toBeLessThan(64 * MiB);
    expect(allocatedBytes('/dev/null')).toBeUndefined();
    expect(allocatedBytes(join(work, 'nothing'))).toBeUndefined();
  });
});
