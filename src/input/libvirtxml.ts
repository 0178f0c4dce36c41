/**
 * `-i libvirtxml`: a libvirt domain XML file (e.g. from `virsh dumpxml`) and
 * the local disk images it names. No libvirt connection is needed.
 */
import { readFile } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import type { Input } from './index.js';
import { checkDisksReadable, errnoCode } from './local-files.js';
import { parseLibvirtXml } from './libvirtxml-parse.js';

/** The libvirt XML input module for a local domain XML file. */
export function libvirtXmlInput(xmlPath: string): Input {
  return {
    describe: `libvirt XML ${xmlPath}`,
    async load() {
      let text: string;
      try {
        text = await readFile(xmlPath, 'utf8');
      } catch (error) {
        throw new SourceError(`Cannot read the libvirt XML file ${xmlPath} (${errnoCode(error)}): check the path and permissions.`);
      }
      const source = parseLibvirtXml(text, xmlPath);
      await checkDisksReadable(source.disks, (disk, errno) =>
        `The disk ${disk.path} named in ${xmlPath} cannot be read (${errno}): fix its <source> path or copy the image there.`,
      );
      return source;
    },
  };
}
