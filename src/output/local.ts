/**
 * `-o local -os DIR`: disks `DIR/NAME-sdX` and libvirt XML `DIR/NAME.xml`.
 */
import { access, rename, stat, writeFile, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { PreflightError } from '../errors.js';
import { checkFreeSpace } from '../disk-space.js';
import type { OutputOptions } from '../options.js';
import { buildDomainXml } from './domain-xml.js';
import { driveLetters, type Output } from './index.js';

/** The local-directory output module. */
export function localOutput(options: OutputOptions): Output {
  const dir = options.storage;
  const xmlPath = (name: string): string => join(dir, `${name}.xml`);
  return {
    describe: `local directory ${dir}`,

    planDisks(name, overlays) {
      return overlays.map((overlay, index) => ({
        overlay: overlay.path,
        path: join(dir, `${name}-sd${driveLetters(index)}`),
        format: options.format,
        virtualSize: overlay.virtualSize,
        dev: `vd${driveLetters(index)}`,
      }));
    },

    async preflight(name, targets, bytesNeeded) {
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory()) {
        throw new PreflightError(`The output directory ${dir} does not exist: create it or pass another "-os DIR".`);
      }
      try {
        await access(dir, constants.W_OK);
      } catch {
        throw new PreflightError(`The output directory ${dir} is not writable: fix its permissions or pass another "-os DIR".`);
      }
      for (const path of [xmlPath(name), ...targets.map((t) => t.path)]) {
        if (await stat(path).catch(() => undefined)) {
          throw new PreflightError(`${path} already exists: remove it, or choose another guest name with "-on NAME".`);
        }
      }
      await checkFreeSpace(dir, bytesNeeded, `the converted disks of ${name}`, 'free some space or pass another "-os DIR"');
    },

    async finish(input) {
      const xml = buildDomainXml({
        name: input.name,
        source: input.source,
        disks: input.targets,
        caps: input.caps,
        inspection: input.inspection,
      });
      // Write then rename: a reader never sees half an XML file.
      const final = xmlPath(input.name);
      const partial = `${final}.partial`;
      try {
        await writeFile(partial, xml, { flag: 'wx' });
        await rename(partial, final);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return [final, ...input.targets.map((t) => t.path)];
    },
  };
}
