/**
 * Bytes given as a text file that are not text, and what they look like
 * (src/text/not-text.ts). The inputs that refuse them: input-warnings.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { invalidUtf8Sequences, MAX_INVALID_SEQUENCES, notText } from '../../src/text/not-text.js';

describe('notText (binary metadata)', () => {
  const vmx = Buffer.from('.encoding = "UTF-8"\ndisplayName = "Müller"\nmemSize = "1024"\n');

  it('takes text: UTF-8, and a few stray Latin-1 bytes', () => {
    expect(notText(vmx)).toBeUndefined();
    const latin1 = Buffer.from('displayName = "M\u00fcller M\u00fcller"\n', 'latin1');
    expect(invalidUtf8Sequences(latin1)).toBe(2);
    expect(notText(latin1)).toBeUndefined();
    expect(notText(Buffer.alloc(0))).toBeUndefined();
  });

  it('refuses NUL bytes, and invalid UTF-8 past the threshold, naming what the bytes look like', () => {
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 193 + 71) % 256));
    expect(notText(random)).toEqual({ kind: 'binary data', fix: 'other' });
    expect(notText(Buffer.concat([vmx, Buffer.from([0])]))).toEqual({ kind: 'binary data', fix: 'other' });
    const invalid = Buffer.from('x'.repeat(100) + '\xff'.repeat(MAX_INVALID_SEQUENCES + 1), 'latin1');
    expect(notText(invalid)?.kind).toBe('binary data');
    // The threshold is "more than 8 and more than 2%": 9 in 1000 bytes is still text.
    expect(notText(Buffer.from('x'.repeat(1000) + '\xff'.repeat(9), 'latin1'))).toBeUndefined();
  });

  it('names disk images and archives by their magic number', () => {
    const withMagic = (magic: number[], offset = 0): Buffer => {
      const b = Buffer.alloc(1024);
      Buffer.from(magic).copy(b, offset);
      return b;
    };
    expect(notText(withMagic([0x4b, 0x44, 0x4d, 0x56, 1]))).toEqual({ kind: 'a sparse VMDK disk image', fix: 'disk' });
    expect(notText(withMagic([0x43, 0x4f, 0x57, 0x44]))?.kind).toBe('an ESXi sparse VMDK disk image');
    expect(notText(withMagic([0x51, 0x46, 0x49, 0xfb]))).toEqual({ kind: 'a qcow2 disk image', fix: 'disk' });
    expect(notText(withMagic([0x1f, 0x8b, 8]))).toEqual({ kind: 'a gzip archive', fix: 'archive' });
    expect(notText(withMagic([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))?.kind).toBe('an xz archive');
    expect(notText(withMagic([0x50, 0x4b, 3, 4]))).toEqual({ kind: 'a zip archive', fix: 'archive' });
    expect(notText(withMagic([0x75, 0x73, 0x74, 0x61, 0x72], 257))).toEqual({ kind: 'a tar archive (an OVA?)', fix: 'archive' });
  });

  it('still names them after a lossy UTF-8 decoding (a file read through ssh: invalid bytes became U+FFFD)', () => {
    const qcow2 = Buffer.alloc(512);
    Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]).copy(qcow2);
    const lossy = Buffer.from(qcow2.toString('utf8'), 'utf8');
    expect(lossy.subarray(0, 6)).toEqual(Buffer.from([0x51, 0x46, 0x49, 0xef, 0xbf, 0xbd]));
    expect(notText(lossy)).toEqual({ kind: 'a qcow2 disk image', fix: 'disk' });
    // Random bytes without NUL, decoded lossily: their U+FFFD count as invalid.
    const noNul = Buffer.from(Array.from({ length: 2048 }, (_, i) => 128 + ((i * 37) % 128)));
    expect(notText(Buffer.from(noNul.toString('utf8'), 'utf8'))?.kind).toBe('binary data');
  });
});
