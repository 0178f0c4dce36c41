/**
 * `-i disk IMG...`: bare disk images with no metadata (the defaults are in
 * disk-source.ts).
 */
import path from 'node:path';
import type { RemoteOptions } from '../remote/options.js';
import { isRemoteSource } from '../remote/url.js';
import { checkDisksReadable } from '../host/local-files.js';
import { diskSource } from './disk-source.js';
import { remoteDiskInput } from './remote.js';
import type { Input } from './types.js';

/** The disk input module for local images (or https:// ones given their options), optionally of a known format (`-if`). */
export function diskInput(paths: string[], format?: string, remote?: RemoteOptions): Input {
  if (remote !== undefined && paths.every(isRemoteSource)) return remoteDiskInput(paths, remote, format);
  const absolute = paths.map((p) => path.resolve(p));
  return {
    describe: absolute.length === 1 ? `disk image ${absolute[0]}` : `${absolute.length} disk images`,
    async load(run) {
      const source = diskSource(absolute, format, run.warnings);
      await checkDisksReadable(source.disks, (disk, problem) => `The disk image ${disk.path} ${problem}: check the path and permissions.`, {
        allowBlock: true,
      });
      return source;
    },
  };
}
