/**
 * `-i libvirtxml`: a libvirt domain XML file (e.g. from `virsh dumpxml`) and
 * the local disk images it names. No libvirt connection is needed.
 */
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { SourceError } from '../errors.js';
import type { Input } from './index.js';
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
        throw new SourceError(`Cannot read the libvirt XML file ${xmlPath} (${errorCode(error)}): check the path and permissions.`);
      }
      const source = parseLibvirtXml(text, xmlPath);
      for (const disk of source.disks) {
        try {
          await access(disk.path, constants.R_OK);
        } catch (error) {
          throw new SourceError(
            `The disk ${disk.path} named in ${xmlPath} cannot be read (${errorCode(error)}): fix its <source> path or copy the image there.`,
          );
        }
      }
      return source;
    },
  };
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
