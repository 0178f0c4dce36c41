/**
 * `-o json -os DIR`: disks `DIR/NAME-sdX` (as -o local) and `DIR/NAME.json`,
 * the whole model of the conversion for other tools to consume.
 *
 * Schema of NAME.json (version 1). Top-level keys in this order; inside every
 * nested object keys are sorted alphabetically, so the file is byte-stable
 * for the same conversion and diffs cleanly:
 *
 *   {
 *     "version": 1,                  // bumped on any incompatible change
 *     "name": string,                // the guest name on the target
 *     "source": Source,              // src/model.ts: the VM as the source described it
 *     "inspection": Inspection,      // src/model.ts: what was found inside the guest
 *     "caps": GuestCaps,             // src/model.ts: devices the converted guest may use
 *     "disks": [                     // one per converted disk, in guest order
 *       { "dev": "vda", "format": "raw"|"qcow2", "path": absolute path, "virtualSize": bytes }
 *     ],
 *     "networks": [                  // one per source NIC, in source order (-n/-b/--mac applied)
 *       { "mac"?: string, "model": string, "name": string, "type": "network"|"bridge" }
 *     ],
 *     "guestNetwork": [              // src/model.ts NicNetworkReport: what the guest's own network
 *       NicNetworkReport             // config uses per NIC and what was pinned (docs/networks.md)
 *     ]                              // [] when none was found
 *     "verify"?: VerifyReport        // src/verify/report.ts: only when --verify ran (checksum and/or boot)
 *   }
 *
 * TargetDisk.overlay is left out: it names a temporary file deleted at the end of the run.
 */
import { join } from 'node:path';
import {
  checkOutputDirectory,
  diskPaths,
  finishDisks,
  planDirectoryDisks,
  reserveOutputFiles,
  type DirectoryOutputOptions,
} from './directory.js';
import { mapNetworks, NO_NETWORK_MAPPING, type NetworkMapping } from './networks.js';
import { copiedPath, OutputReservation } from './reservation.js';
import type { FinishInput, Output } from './types.js';
import { jsonText } from '../text/safe-text.js';

/** Version of the NAME.json schema above. */
export const JSON_OUTPUT_VERSION = 1;

/** JSON.stringify replacer: object keys sorted at every level except the top one. */
function sortedKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '' || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

/** The NAME.json document (schema above), 2-space indented with a trailing newline. Pure. */
export function buildJsonDocument(input: FinishInput, networkMapping: NetworkMapping = NO_NETWORK_MAPPING): string {
  const document = {
    version: JSON_OUTPUT_VERSION,
    name: input.name,
    source: input.source,
    inspection: input.inspection,
    caps: input.caps,
    disks: input.targets.map(({ dev, format, path, virtualSize }) => ({ dev, format, path, virtualSize })),
    networks: mapNetworks(input.source.nics, networkMapping, input.caps.netModel),
    guestNetwork: input.network ?? [],
    ...(input.verification ? { verify: input.verification } : {}),
  };
  return `${jsonText(document, sortedKeys, 2)}\n`;
}

/** The JSON-metadata output module. */
export function jsonOutput(options: DirectoryOutputOptions): Output {
  const dir = options.storage;
  const jsonPath = (name: string): string => join(dir, `${name}.json`);
  const reservation = new OutputReservation();
  return {
    describe: `JSON metadata and disks in ${dir}`,

    planDisks(name, overlays) {
      return planDirectoryDisks(dir, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded, notify = () => undefined) {
      await checkOutputDirectory(dir, [jsonPath(name), `${jsonPath(name)}.partial`, ...diskPaths(targets)], bytesNeeded, name, {
        reservation,
        notify,
      });
      await reserveOutputFiles(reservation, targets, [jsonPath(name)]);
    },

    discard: () => reservation.discard(),

    adoptDisk: (target, file) => reservation.adopt(file, copiedPath(target)),

    async finish(input) {
      const path = jsonPath(input.name);
      const document = buildJsonDocument(input, options.networkMapping);
      await finishDisks(reservation, input.targets);
      await reservation.writeFile(path, document, 0o644);
      await reservation.close();
      return [path, ...input.targets.map((t) => t.path)];
    },
  };
}
