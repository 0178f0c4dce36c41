/**
 * `-i vmx`: a local VMware .vmx file and the disks it names.
 */
import { readFile } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import type { RemoteOptions } from '../remote/options.js';
import { isRemoteSource } from '../remote/url.js';
import type { Input } from './index.js';
import { checkDisksReadable, errnoCode } from './local-files.js';
import { remoteVmxInput } from './remote.js';
import { parseVmx } from './vmx-parse.js';

/** The VMX input module for a local file, or a remote one (ssh://, https://) given its options. */
export function vmxInput(vmxPath: string, remote?: RemoteOptions): Input {
  if (remote !== undefined && isRemoteSource(vmxPath)) return remoteVmxInput(vmxPath, remote);
  return {
    describe: `VMX file ${vmxPath}`,
    async load() {
      let text: string;
      try {
        text = await readFile(vmxPath, 'utf8');
      } catch (error) {
        throw new SourceError(`Cannot read the VMX file ${vmxPath} (${errnoCode(error)}): check the path and permissions.`);
      }
      const source = parseVmx(text, vmxPath);
      await checkDisksReadable(source.disks, (disk, errno) =>
        `The disk ${disk.path} named by ${disk.bus}${disk.controller}:${disk.unit} in ${vmxPath} cannot be read (${errno}): copy it next to the .vmx or fix its fileName.`,
      );
      return source;
    },
  };
}
