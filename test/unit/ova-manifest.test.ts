import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { extractCommand } from '../../src/input/ova/archive.js';
import { fileDigest, parseManifest, verifyManifest } from '../../src/input/ova/manifest.js';

// Digests of "hello\n", computed with sha1sum / sha256sum / sha512sum.
const HELLO_SHA1 = 'f572d396fae9206628714fb2ce00f72e94f2258f';
const HELLO_SHA256 = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
const HELLO_SHA512 =
  'e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'v2v-mf-'));
  await writeFile(path.join(dir, 'guest.ovf'), 'hello\n');
  await writeFile(path.join(dir, 'guest-disk1.vmdk'), 'hello\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseManifest', () => {
  it('reads SHA1, SHA256 and SHA512 lines as ovftool and VirtualBox write them (CRLF, spacing, upper-case hex)', () => {
    const text = `SHA256(guest.ovf)= ${HELLO_SHA256}\r\nSHA1 (guest-disk1.vmdk) = ${HELLO_SHA1.toUpperCase()}\r\nSHA512(disk 2.vmdk)= ${HELLO_SHA512}\r\n\r\n`;
    expect(parseManifest(text, '/x/guest.mf')).toEqual({
      entries: [
        { algorithm: 'sha256', file: 'guest.ovf', digest: HELLO_SHA256 },
        { algorithm: 'sha1', file: 'guest-disk1.vmdk', digest: HELLO_SHA1 },
        { algorithm: 'sha512', file: 'disk 2.vmdk', digest: HELLO_SHA512 },
      ],
      warnings: [],
    });
  });

  it('warns about lines it cannot check: unknown algorithm, wrong digest length, garbage', () => {
    const text = `MD5(guest.ovf)= b1946ac92492d2347c6235b4d2611184\nSHA1(guest.ovf)= abc\njunk\nSHA1(guest.ovf)= ${HELLO_SHA1}\n`;
    const manifest = parseManifest(text, '/x/guest.mf');
    expect(manifest.entries).toEqual([{ algorithm: 'sha1', file: 'guest.ovf', digest: HELLO_SHA1 }]);
    expect(manifest.warnings).toEqual([
      'line 1 of /x/guest.mf is not a SHA1, SHA256 or SHA512 checksum line; it is not checked',
      'line 2 of /x/guest.mf is not a SHA1, SHA256 or SHA512 checksum line; it is not checked',
      'line 3 of /x/guest.mf is not a SHA1, SHA256 or SHA512 checksum line; it is not checked',
    ]);
  });

  it.each(['../etc/passwd', '/etc/passwd', 'a/../../b'])('refuses a file outside the OVA: %s', (file) => {
    expect(() => parseManifest(`SHA1(${file})= ${HELLO_SHA1}`, '/x/guest.mf')).toThrow(SourceError);
  });
});

describe('verifyManifest', () => {
  it('computes digests by streaming the file', async () => {
    await expect(fileDigest(path.join(dir, 'guest.ovf'), 'sha1')).resolves.toBe(HELLO_SHA1);
    await expect(fileDigest(path.join(dir, 'guest.ovf'), 'sha512')).resolves.toBe(HELLO_SHA512);
  });

  it('accepts matching files', async () => {
    const { entries } = parseManifest(`SHA256(guest.ovf)= ${HELLO_SHA256}\nSHA1(guest-disk1.vmdk)= ${HELLO_SHA1}\n`, 'guest.mf');
    await expect(verifyManifest(dir, entries, 'guest.mf', '/x/guest.ova')).resolves.toEqual([]);
  });

  it('names the corrupt file and says to re-export', async () => {
    const wrong = HELLO_SHA1.replace(/^f/, '0');
    const { entries } = parseManifest(`SHA256(guest.ovf)= ${HELLO_SHA256}\nSHA1(guest-disk1.vmdk)= ${wrong}\n`, 'guest.mf');
    const error = await verifyManifest(dir, entries, 'guest.mf', '/x/guest.ova').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      'guest-disk1.vmdk in /x/guest.ova does not match its SHA1 checksum in the manifest: the OVA is corrupt, download or export it again.',
    );
  });

  it('warns about a listed file that is missing (VMware exports do list files they leave out)', async () => {
    const { entries } = parseManifest(`SHA1(guest-disk2.vmdk)= ${HELLO_SHA1}\n`, 'guest.mf');
    await expect(verifyManifest(dir, entries, 'guest.mf', '/x/guest.ova')).resolves.toEqual([
      'the manifest guest.mf lists guest-disk2.vmdk, which is not in /x/guest.ova; it is not checked',
    ]);
  });
});

describe('extractCommand', () => {
  it('extracts a tar (any compression tar detects) without restoring owners or modes', () => {
    expect(extractCommand('/s/g.ova', '/t/ova', 'tar')).toEqual({
      program: 'tar',
      args: ['-x', '--no-same-owner', '--no-same-permissions', '-f', '/s/g.ova', '-C', '/t/ova'],
    });
  });
  it('extracts a zip with unzip, never prompting', () => {
    expect(extractCommand('/s/g.ova', '/t/ova', 'zip')).toEqual({ program: 'unzip', args: ['-q', '-o', '/s/g.ova', '-d', '/t/ova'] });
  });
});
