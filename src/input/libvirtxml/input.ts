/**
 * `-i libvirtxml`: a libvirt domain XML file (e.g. from `virsh dumpxml`) and
 * the local disk images it names. No libvirt connection is needed.
 *
 * Unlike a .vmx, a domain XML names host paths by nature (images in a pool,
 * block devices such as /dev/vg/lv), so its disks may be anywhere: giving
 * the XML is giving those paths. They must still be regular files or block
 * devices (never a FIFO, socket or character device such as /dev/zero).
 */
import type { Input } from '../types.js';
import { checkDisksReadable, METADATA_MAX_BYTES, readMetadataFile } from '../../host/local-files.js';
import { parseLibvirtXml } from './parse.js';
import { withFileWarnings } from '../file-warnings.js';

/** The libvirt XML input module for a local domain XML file. */
export function libvirtXmlInput(xmlPath: string): Input {
  return {
    describe: `libvirt XML ${xmlPath}`,
    async load(run) {
      const text = await readMetadataFile(xmlPath, 'the libvirt XML file', METADATA_MAX_BYTES.libvirtXml);
      const warnings = run.warnings ?? [];
      const source = withFileWarnings(xmlPath, warnings, run.warningsPerFile, (own) => parseLibvirtXml(text, xmlPath, own));
      source.warnings = warnings;
      await checkDisksReadable(
        source.disks,
        (disk, problem) => `The disk ${disk.path} named in ${xmlPath} ${problem}: fix its <source> path or copy the image there.`,
        { allowBlock: true },
      );
      return source;
    },
  };
}
