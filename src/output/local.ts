/**
 * `-o local -os DIR`: disks `DIR/NAME-sdX` and libvirt XML `DIR/NAME.xml`.
 */
import { join } from 'node:path';
import { checkOutputDirectory, diskPaths, finishDisks, planDirectoryDisks, reserveOutputFiles } from './directory.js';
import { buildDomainXml } from './domain-xml.js';
import { mapNetworks } from './networks.js';
import { copiedPath, OutputReservation } from './reservation.js';
import type { OutputOptions } from './options.js';
import type { Output } from './types.js';

/** The local-directory output module. */
export function localOutput(options: OutputOptions): Output {
  const dir = options.storage;
  const xmlPath = (name: string): string => join(dir, `${name}.xml`);
  const reservation = new OutputReservation();
  return {
    describe: `local directory ${dir}`,

    planDisks(name, overlays) {
      return planDirectoryDisks(dir, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded, notify = () => undefined) {
      await checkOutputDirectory(dir, [xmlPath(name), `${xmlPath(name)}.partial`, ...diskPaths(targets)], bytesNeeded, name, {
        reservation,
        notify,
      });
      await reserveOutputFiles(reservation, targets, [xmlPath(name)]);
    },

    discard: () => reservation.discard(),

    adoptDisk: (target, file) => reservation.adopt(file, copiedPath(target)),

    async finish(input) {
      const xml = buildDomainXml({
        name: input.name,
        source: input.source,
        disks: input.targets,
        caps: input.caps,
        inspection: input.inspection,
        networks: mapNetworks(input.source.nics, options.networkMapping, input.caps.netModel),
      });
      await finishDisks(reservation, input.targets);
      const path = xmlPath(input.name);
      await reservation.writeFile(path, xml, 0o644);
      await reservation.close();
      return [path, ...input.targets.map((t) => t.path)];
    },
  };
}
