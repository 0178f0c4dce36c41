/**
 * A guest tree on the host behind the guestfish calls the converter steps
 * tested without an appliance make (readStaticGuest in a unit test,
 * extendInitramfsTools in an integration test: it runs cpio): files are
 * read, listed, downloaded and uploaded under `root`; links resolve inside
 * it as relative ones. The appliance's side is exercised by the e2e tests
 * that boot the result.
 */
import { existsSync } from 'node:fs';
import { copyFile, lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Guestfs } from '../../drivers/guestfish.js';

export function hostGuest(root: string): Guestfs {
  const at = (p: string): string => join(root, p);
  const is = async (check: () => Promise<boolean>): Promise<string> => String(await check().catch(() => false));
  const fake = {
    exists: async (p: string) => existsSync(at(p)),
    readFile: async (p: string) => readFile(at(p), 'utf8'),
    ls: async (p: string) => (await readdir(at(p))).sort(),
    downloadMany: async (pairs: Array<[string, string]>) => {
      for (const [from, to] of pairs) await copyFile(at(from), to);
    },
    call: async (name: string, a: string, b: string) => {
      if (name === 'is-dir') return is(async () => (await stat(at(a))).isDirectory());
      if (name === 'is-file') return is(async () => (await stat(at(a))).isFile());
      if (name === 'is-symlink') return is(async () => (await lstat(at(a))).isSymbolicLink());
      if (name === 'readlink') return readlink(at(a));
      if (name === 'download') return copyFile(at(a), b).then(() => '');
      if (name === 'upload') return copyFile(a, at(b)).then(() => '');
      if (name === 'statvfs') return 'bsize: 4096\nbavail: 100000\n';
      throw new Error(`unexpected call ${name}`);
    },
  };
  return fake as unknown as Guestfs;
}
