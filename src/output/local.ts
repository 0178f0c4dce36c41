/**
 * `-o local -os DIR`: disks `DIR/NAME-sdX` and libvirt XML `DIR/NAME.xml`.
 */
import { join } from 'node:path';
import type { OutputOptions } from '../options.js';
import { checkOutputDirectory, planDirectoryDisks, writeFileAtomically } from './directory.js';
import { buildDomainXml } from './domain-xml.js';
import type { Output } from './index.js';
import { mapNetworks } from './networks.js';

/** The local-directory output module. */
export function localOutput(options: OutputOptions): Output {
  const dir = options.storage;
  const xmlPath = (name: string): string => join(dir, `${name}.xml`);
  return {
    describe: `local directory ${dir}`,

    planDisks(name, overlays) {
      return planDirectoryDisks(dir, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded) {
      await checkOutputDirectory(dir, [xmlPath(name), ...targets.map((t) => t.path)], bytesNeeded, name);
    },

    async finish(input) {
      const xml = buildDomainXml({
        name: input.name,
        source: input.source,
        disks: input.targets,
        caps: input.caps,
        inspection: input.inspection,
        networks: mapNetworks(input.source.nics, options.networkMapping, input.caps.netModel),
      });
      const path = xmlPath(input.name);
      await writeFileAtomically(path, xml);
      return [path, ...input.targets.map((t) => t.path)];
    },
  };
}
