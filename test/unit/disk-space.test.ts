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
import { measureFormat, targetBytesNeeded } from '../../src/disk-space.js';

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
  it('asks qcow2 about sparse raw (measure -O raw says the virtual size)', () => {
    expect(measureFormat('raw', 'sparse')).toBe('qcow2');
    expect(measureFormat('raw', 'preallocated')).toBe('raw');
    expect(measureFormat('qcow2', 'sparse')).toBe('qcow2');
  });
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
