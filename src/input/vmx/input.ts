/**
 * `-i vmx`: a local VMware .vmx file and the disks it names. Every disk must
 * be a VMDK whose files (descriptor, extents, parents) resolve inside the
 * .vmx's directory, or inside a directory the user allowed with --allow-dir
 * (another datastore mounted here): a fileName cannot make v2v read another
 * host file unless the user said so.
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

/** How a .vmx is read: over SSH/HTTPS (`remote`), or locally with the --allow-dir directories (`allowDirs`). */
export interface VmxAccess {
  remote?: RemoteOptions;
  allowDirs?: string[];
}

/** The VMX input module for a local file, or a remote one (ssh://, https://) given its options. */
export function vmxInput(vmxPath: string, access: VmxAccess = {}): Input {
  if (access.remote !== undefined && isRemoteSource(vmxPath)) return remoteVmxInput(vmxPath, access.remote);
  const allowed = access.allowDirs ?? [];
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
          allowed,
          label: `The disk ${disk.path} named by ${disk.bus}${disk.controller}:${disk.unit} in ${vmxPath}`,
          outsideFix:
            "v2v reads only files inside the .vmx's directory unless allowed: if you trust this .vmx and the disk is on another datastore, allow that directory with --allow-dir DIR (repeatable), or copy the disk (with its extents and parent disks) next to the .vmx and set its fileName to that name",
          vmdkOnly: true,
        });
      }
      return source;
    },
  };
}
