/**
 * `-o kubevirt -os DIR`: disks `DIR/NAME-sdX` (as -o local) and
 * `DIR/NAME.yaml`, a KubeVirt VirtualMachine whose volumes are those disks
 * (hostDisk), built in kubevirt-vm.ts. Preflight refuses what KubeVirt
 * cannot take (a name that is not an RFC 1123 name, two NICs for the one
 * pod network) before anything is copied. docs/options.md#-o-kubevirt.
 */
import { join } from 'node:path';
import { PreflightError } from '../errors.js';
import { packageVersion } from '../host/version.js';
import { checkOutputDirectory, diskPaths, finishDisks, planDirectoryDisks, reserveOutputFiles } from './directory.js';
import { isKubevirtName, kubevirtNameProblem } from './kubevirt-name.js';
import { buildKubevirtVm, kubevirtYaml, planKubevirtNetworks } from './kubevirt-vm.js';
import type { OutputOptions } from './options.js';
import { copiedPath, OutputReservation } from './reservation.js';
import type { Output } from './types.js';

/** The KubeVirt output module; `version` goes into the VirtualMachine's labels. */
export function kubevirtOutput(
  options: Pick<OutputOptions, 'storage' | 'format' | 'networkMapping'>,
  version: string = packageVersion(),
): Output {
  const dir = options.storage;
  const mapping = options.networkMapping;
  const yamlPath = (name: string): string => join(dir, `${name}.yaml`);
  const reservation = new OutputReservation();
  return {
    describe: `KubeVirt VirtualMachine and disks in ${dir}`,

    checkSource(name, source) {
      if (!isKubevirtName(name)) throw new PreflightError(kubevirtNameProblem(name));
      planKubevirtNetworks(source.nics, mapping, 'virtio'); // throws when two NICs would need the pod network
      return [];
    },

    planDisks(name, overlays) {
      return planDirectoryDisks(dir, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded, notify = () => undefined) {
      await checkOutputDirectory(dir, [yamlPath(name), `${yamlPath(name)}.partial`, ...diskPaths(targets)], bytesNeeded, name, {
        reservation,
        notify,
      });
      await reserveOutputFiles(reservation, targets, [yamlPath(name)]);
    },

    discard: () => reservation.discard(),

    adoptDisk: (target, file) => reservation.adopt(file, copiedPath(target)),

    async finish(input) {
      const { vm, warnings } = buildKubevirtVm({
        name: input.name,
        source: input.source,
        inspection: input.inspection,
        caps: input.caps,
        targets: input.targets,
        networkMapping: mapping,
        version,
      });
      for (const warning of warnings) input.warn?.(warning);
      await finishDisks(reservation, input.targets);
      const path = yamlPath(input.name);
      await reservation.writeFile(path, kubevirtYaml(vm, version), 0o644);
      await reservation.close();
      return [path, ...input.targets.map((t) => t.path)];
    },
  };
}
