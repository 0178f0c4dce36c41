/**
 * Remote variants of `-i vmx` (over SSH or HTTPS) and `-i disk` (HTTPS): the
 * metadata is read over the transport; each disk is served by nbdkit and
 * becomes the backing of its overlay (see src/remote/remote-disk.ts).
 */
import { SourceError } from '../errors.js';
import { metadataText } from '../host/local-files.js';
import type { Source } from '../model.js';
import { credentialWarnings, openRemoteAccess } from '../remote/access.js';
import type { RemoteOptions } from '../remote/options.js';
import { openRemoteDisk } from '../remote/remote-disk.js';
import { displayLocation, locationPath, parseRemoteSource, siblingLocation, type RemoteLocation } from '../remote/url.js';
import { diskSource } from './disk-source.js';
import type { Input } from './types.js';
import { parseVmx } from './vmx/parse.js';
import { withFileWarnings } from './file-warnings.js';

/** Largest .vmx we read (they are a few KiB). */
const VMX_MAX_BYTES = 4 * 2 ** 20;

/** `-i vmx` with an ssh:// or https:// .vmx. */
export function remoteVmxInput(url: string, options: RemoteOptions): Input {
  const loc = parseRemoteSource(url);
  const shown = displayLocation(loc);
  return {
    describe: `VMX file ${shown}`,
    async load(run) {
      // First: they are about how the server is reached, which may fail next.
      const warnings = run.warnings ?? [];
      warnings.push(...passwordWarning([loc]), ...(await credentialWarnings(options)));
      const access = await openRemoteAccess(options, loc, run);
      const text = metadataText(await access.read(loc, VMX_MAX_BYTES), 'the VMX file', shown);
      const source: Source = withFileWarnings(locationPath(loc), warnings, run.warningsPerFile, (own) =>
        parseVmx(text, locationPath(loc), own),
      );
      source.warnings = warnings;
      for (const disk of source.disks) {
        const diskLoc = siblingLocation(loc, disk.path);
        const { backing } = await openRemoteDisk(access, diskLoc);
        disk.path = backing.display;
        disk.backing = backing;
        if (backing.format !== undefined) disk.format = backing.format;
      }
      return source;
    },
  };
}

/** `-i disk` with https:// images. */
export function remoteDiskInput(urls: string[], options: RemoteOptions, format?: string): Input {
  const locs = urls.map(parseRemoteSource);
  return {
    describe: locs.length === 1 ? `disk image ${displayLocation(locs[0]!)}` : `${locs.length} disk images`,
    async load(run) {
      const first = locs[0];
      if (first === undefined) throw new SourceError('-i disk needs at least one disk image: pass the image URLs after the options.');
      const warnings = run.warnings ?? [];
      warnings.push(...passwordWarning(locs), ...(await credentialWarnings(options)));
      const access = await openRemoteAccess(options, first, run);
      const source = diskSource(
        locs.map((l) => locationPath(l)),
        format,
        warnings,
      );
      for (const [index, disk] of source.disks.entries()) {
        const { backing } = await openRemoteDisk(access, locs[index]!, format);
        disk.path = backing.display;
        disk.backing = backing;
        if (backing.format !== undefined) disk.format = backing.format;
      }
      return source;
    },
  };
}

/** A password given in a URL was visible in v2v's own argv: say so, and how to avoid it. */
function passwordWarning(locs: RemoteLocation[]): string[] {
  return locs.some((l) => l.transport === 'https' && l.password !== undefined)
    ? [
        'the source URL carries a password, which other local users can see in "ps": write it to a file readable only by you and pass "-ip FILE" instead',
      ]
    : [];
}
