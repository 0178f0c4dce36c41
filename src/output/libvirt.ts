/**
 * `-o libvirt -oc URI -os POOL`: disks become files `POOLDIR/NAME-sdX` in a
 * directory storage pool, and the guest is defined (not started) in libvirt.
 *
 * Unlike virt-v2v, which finds a missing pool or an existing domain only
 * after converting and copying, everything is checked up front: libvirt
 * reachable, pool present, of type dir, active and on this host, no domain
 * or volume with the names we will use, enough space in the pool.
 *
 * The disk paths depend on the pool's directory, which only libvirt knows, so
 * {@link LibvirtOutput.prepare} must run before planDisks; preflight runs it
 * too (once) so every check is reachable through preflight alone.
 */
import { constants } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { access, lstat, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  undefineCommand,
  defineDomain,
  domainCapabilities,
  domainInfo,
  domainState,
  libvirtUri,
  poolDefinition,
  poolInfo,
  refreshPool,
  volumeInfo,
} from '../../drivers/virsh.js';
import { formatBytes } from '../host/disk-space.js';
import { run } from '../host/exec.js';
import { CommandError, PreflightError } from '../errors.js';
import type { OutputFormat } from '../model.js';
import { buildDomainXml } from './domain-xml.js';
import { diskPaths, finishDisks, planDirectoryDisks, reserveOutputFiles } from './directory.js';
import { copiedPath, OutputReservation } from './reservation.js';
import { mapNetworks, NO_NETWORK_MAPPING, type NetworkMapping } from './networks.js';
import { checkTargetNetworks } from './libvirt-networks.js';
import { makeRunTempDir } from '../host/tmpdir.js';
import type { Output } from './types.js';

/** Options of the libvirt output. */
export interface LibvirtOutputOptions {
  /** libvirt connection URI (-oc), e.g. "qemu:///system". */
  uri: string;
  /** Name of a directory storage pool (-os). */
  pool: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  networkMapping?: NetworkMapping;
}

/** The libvirt output: an Output whose planDisks needs prepare() to have run. */
export interface LibvirtOutput extends Output {
  /** Connects to libvirt and resolves the pool's directory; idempotent; throws PreflightError with the fix. */
  prepare(): Promise<void>;
}

/** The last line of a virsh error without its "error: " prefix: the specific part. */
function reason(error: CommandError): string {
  const last = error.stderr
    .split('\n')
    .at(-1)
    ?.replace(/^error:\s*/, '')
    .trim();
  return last || error.message;
}

/**
 * Runs a libvirt query during preflight: a virsh failure other than "not
 * found" (which the drivers return as undefined) becomes a PreflightError.
 */
async function query<T>(what: string, uri: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new PreflightError(
      `Could not ${what} at ${uri} (${reason(error)}): check libvirtd's log and fix libvirt, or pass another "-oc URI".`,
      { cause: error },
    );
  }
}

/** Checks the connection and the pool; returns the pool's directory. */
async function resolvePoolDirectory(uri: string, pool: string): Promise<string> {
  try {
    await libvirtUri(uri);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    if (error.code === undefined && /is not installed/.test(error.message)) {
      throw new PreflightError('virsh is not installed: install the libvirt-clients package (scripts/setup.sh does).', { cause: error });
    }
    throw new PreflightError(`libvirt is not reachable at ${uri} (${reason(error)}): start libvirtd or pass another "-oc URI".`, {
      cause: error,
    });
  }
  const info = await query(`read storage pool "${pool}"`, uri, () => poolInfo(uri, pool));
  const definition = await query(`read storage pool "${pool}"`, uri, () => poolDefinition(uri, pool));
  if (info === undefined || definition === undefined) {
    throw new PreflightError(
      `Storage pool "${pool}" does not exist at ${uri}: create a directory pool (virsh pool-define-as ${pool} dir --target DIR && virsh pool-build ${pool} && virsh pool-start ${pool}) or pass another "-os POOL".`,
    );
  }
  if (definition.type !== 'dir') {
    throw new PreflightError(
      `Storage pool "${pool}" is of type ${definition.type}, but -o libvirt writes disk files and needs a directory pool: pass a pool of type dir with "-os POOL".`,
    );
  }
  if (info.state !== 'running') {
    throw new PreflightError(`Storage pool "${pool}" is ${info.state}, not active: start it with "virsh -c ${uri} pool-start ${pool}".`);
  }
  const dir = definition.targetPath;
  const dirInfo = dir === undefined ? undefined : await stat(dir).catch(() => undefined);
  if (dir === undefined || !dirInfo?.isDirectory()) {
    throw new PreflightError(
      `The directory ${dir ?? '(none)'} of storage pool "${pool}" is not on this host, and -o libvirt copies disks into it directly: use a libvirt on this host ("-oc URI") or another "-os POOL".`,
    );
  }
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new PreflightError(
      `The directory ${dir} of storage pool "${pool}" is not writable: fix its permissions or pass another "-os POOL".`,
    );
  }
  return dir;
}

/** Removes the volume files this run created (and only those), and tells libvirt they are gone. */
async function removeVolumes(uri: string, pool: string, reservation: OutputReservation): Promise<void> {
  await reservation.discard();
  await refreshPool(uri, pool).catch(() => undefined);
}

/**
 * Writes a domain XML into a run temp dir (marked: see makeRunTempDir, so a
 * run killed meanwhile leaves nothing for good) for `use` to hand to virsh;
 * the directory is removed afterwards.
 */
export async function withDomainXmlFile<T>(name: string, xml: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await makeRunTempDir('v2v-libvirt-');
  try {
    const file = join(dir, `${name}.xml`);
    await writeFile(file, xml);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The libvirt output module. */
export function libvirtOutput(options: LibvirtOutputOptions): LibvirtOutput {
  const { uri, pool } = options;
  let resolving: Promise<string> | undefined;
  let poolDirectory: string | undefined;
  let targetDomainType: string | undefined;
  const reservation = new OutputReservation();
  // The domain this run defines carries this UUID: rollback undefines that domain, never another run's of the same name.
  const uuid = randomUUID();
  let defining = false;

  const prepare = async (): Promise<void> => {
    resolving ??= resolvePoolDirectory(uri, pool);
    poolDirectory = await resolving;
    // Target-aware: libvirt says whether KVM is usable there (no /dev/kvm → "qemu").
    targetDomainType ??= (await query('read domain capabilities', uri, () => domainCapabilities(uri, { arch: 'x86_64' }))).domainType;
  };

  return {
    describe: `libvirt storage pool ${pool} at ${uri}`,
    prepare,

    planDisks(name, overlays) {
      if (poolDirectory === undefined) throw new Error('internal: libvirt output: prepare() must run before planDisks()');
      return planDirectoryDisks(poolDirectory, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded, notify = () => undefined) {
      await prepare();
      const state = await query(`look up domain "${name}"`, uri, () => domainState(uri, name));
      if (state !== undefined) {
        throw new PreflightError(
          `A libvirt domain named "${name}" already exists at ${uri} (${state}): remove it ("virsh undefine ${name}") or choose another guest name with "-on NAME".`,
        );
      }
      // After the domain check (a killed run whose domain was defined is finished: its volumes stay), before the volume checks.
      await reservation.lock(poolDirectory!, name, notify);
      try {
        await checkTargetNetworks(uri, options.networkMapping ?? NO_NETWORK_MAPPING);
        // A refresh makes libvirt see every file in the directory and updates the free space.
        await query(`refresh storage pool "${pool}"`, uri, () => refreshPool(uri, pool));
        for (const path of diskPaths(targets)) {
          const volume = basename(path);
          const known = await query(`look up volume "${volume}"`, uri, () => volumeInfo(uri, pool, volume));
          const file = await lstat(path).catch(() => undefined);
          if (file?.isSymbolicLink()) {
            throw new PreflightError(
              `${path} in storage pool "${pool}" is a symbolic link, and v2v never writes through one: remove it or choose another guest name with "-on NAME".`,
            );
          }
          if (known !== undefined || file) {
            throw new PreflightError(
              `Volume "${volume}" already exists in storage pool "${pool}": delete it ("virsh vol-delete --pool ${pool} ${volume}") or choose another guest name with "-on NAME".`,
            );
          }
        }
        const definition = await query(`read storage pool "${pool}"`, uri, () => poolDefinition(uri, pool));
        const available = definition?.available ?? 0;
        if (available < bytesNeeded) {
          throw new PreflightError(
            `Not enough space in storage pool "${pool}" (${poolDirectory}): ${formatBytes(bytesNeeded)} needed, ${formatBytes(available)} available; free some space or pass another "-os POOL".`,
          );
        }
        // Last: a run racing for the same volume names fails here, before touching ours.
        await reserveOutputFiles(reservation, targets, []);
      } catch (error) {
        await reservation.discard(); // gives the lock back
        throw error;
      }
    },

    discard: () => removeVolumes(uri, pool, reservation),

    adoptDisk: (target, file) => reservation.adopt(file, copiedPath(target)),

    async rollback(name) {
      // Only a domain this run defined: another run may have defined one of the same name meanwhile.
      if (!defining) return;
      const domain = await domainInfo(uri, name).catch(() => undefined);
      if (domain?.uuid === uuid) await run(undefineCommand(uri, name), { allowFailure: true });
    },

    async finish(input) {
      // KVM only where both libvirt offers it and the local probe found it working
      // (a /dev/kvm that exists but hangs guests is reported as kvm by libvirt).
      const domainType = targetDomainType === 'kvm' && input.caps.domainType === 'kvm' ? 'kvm' : 'qemu';
      const xml = buildDomainXml({
        name: input.name,
        uuid,
        source: input.source,
        disks: input.targets,
        caps: { ...input.caps, domainType },
        inspection: input.inspection,
        networks: mapNetworks(input.source.nics, options.networkMapping ?? NO_NETWORK_MAPPING, input.caps.netModel),
      });
      await finishDisks(reservation, input.targets);
      try {
        await refreshPool(uri, pool);
        await withDomainXmlFile(input.name, xml, async (file) => {
          defining = true;
          // Exclusive: libvirt refuses a name that exists with another UUID.
          await defineDomain(uri, file);
        });
      } catch (error) {
        // Nothing half-written: without a domain the copied volumes are orphans.
        await removeVolumes(uri, pool, reservation);
        if (!(error instanceof CommandError)) throw error;
        throw new CommandError(
          `Defining the libvirt domain ${input.name} at ${uri} failed, so its copied volumes were removed: ${reason(error)}`,
          error.command,
          error.code,
          error.stderr,
          { cause: error },
        );
      }
      await reservation.close();
      // The run's lock is gone now: libvirt, which listed it as a volume since the refresh above, forgets it.
      await refreshPool(uri, pool).catch(() => undefined);
      return [input.name, ...input.targets.map((t) => t.path)];
    },
  };
}
