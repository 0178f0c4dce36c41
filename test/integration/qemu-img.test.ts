import { describe, expect, it } from 'vitest';
import { convertCommand } from '../../drivers/qemu-img.js';

describe('--compressed with the real qemu-img', () => {
  it('adds -c, and the written qcow2 is smaller than without it', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync, writeFileSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'v2v-compress-'));
    try {
      // 8 MiB of text: compressible, and not zero (zero clusters are never written).
      writeFileSync(join(dir, 'src.raw'), Buffer.from('v2v compresses this line of text\n'.repeat(262_144)));
      const base = { source: join(dir, 'src.raw'), sourceFormat: 'raw', targetFormat: 'qcow2' as const };
      const compressed = convertCommand({ ...base, target: join(dir, 'c.qcow2'), compressed: true });
      expect(compressed.args.slice(0, 7)).toEqual(['convert', '-p', '-W', '-m', '8', '-c', '-f']);
      execFileSync(compressed.program, compressed.args);
      const plain = convertCommand({ ...base, target: join(dir, 'p.qcow2') });
      expect(plain.args).not.toContain('-c');
      execFileSync(plain.program, plain.args);
      const size = (f: string): number => statSync(join(dir, f)).size;
      expect(size('p.qcow2')).toBeGreaterThan(8 * 1024 * 1024);
      expect(size('c.qcow2')).toBeLessThan(size('p.qcow2') / 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
