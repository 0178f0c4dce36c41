/**
 * `-i vmx`: a local VMware .vmx file and the disks it names. Every disk must
 * be a VMDK whose files (descriptor, extents, parents) resolve inside the
 * .vmx's directory: a fileName cannot make v2v read another host file.
 */
import path from 'node:path';
import type { RemoteOptions } from '../../remote/options.js';
import { isRemoteSource } from '../../remote/url.js';
import { checkDiskReferences } from '../disk-references.js';
import type { Input } from '../types.js';
import { METADATA_MAX_BYTES, readMetadataFile } from '../../host/local-files.js';
import { remoteVmxInput } from '../remote.js';
import { parseVmx } from './parse.js';
import { withFileWarnings } from '../file-warnings.js';

/** The VMX input module for a local file, or a remote one (ssh://, https://) given its options. */
export function vmxInput(vmxPath: string, remote?: RemoteOptions): Input {
  if (remote !== undefined && isRemoteSource(vmxPath)) return remoteVmxInput(vmxPath, remote);
  return {
    describe: `VMX file ${vmxPath}`,
    async load(run) {
      const text = await readMetadataFile(vmxPath, 'the VMX file', METADATA_MAX_BYTES.vmx);
      const warnings = run.warnings ?? [];
      const source = withFileWarnings(vmxPath, warnings, run.warningsPerFile, (own) => parseVmx(text, vmxPath, own));
      source.warnings = warnings;
      const root = path.dirname(vmxPath);
      for (const disk of source.disks) {
        disk.format = await checkDiskReferences(disk.path, {
          root,
          label: `The disk ${disk.path} named by ${disk.bus}${disk.controller}:${disk.unit} in ${vmxPath}`,
          outsideFix: 'copy the disk (with its extents and parent disks) next to the .vmx and set its fileName to that name',
          vmdkOnly: true,
        });
      }
      return source;
    },
  };
}
