/**
 * Picks the virtio-win drivers for a Windows guest from a file listing of a
 * virtio-win tree (the ISO's layout: `DRIVER/OSDIR/ARCH/FILE`, e.g.
 * `viostor/2k19/amd64/viostor.sys`, possibly under a prefix such as
 * `drivers/by-driver/`). Pure: the listing comes from a host directory or
 * from the ISO read in the appliance.
 */

/** What driver selection needs to know about the guest. */
export interface WindowsVersion {
  majorVersion: number;
  minorVersion: number;
  /** e.g. "Windows Server 2019 Standard": tells server from client and the server year. */
  productName: string;
  /** libguestfs' arch: x86_64, i386, aarch64. */
  arch: string;
}

/**
 * The drivers v2v installs, in this order. viostor and vioscsi are the boot
 * (storage) drivers; NetKVM the network; the rest are optional devices the
 * domain XML adds (balloon, virtio-serial for qemu-ga, rng).
 */
export const VIRTIO_DRIVERS = ['viostor', 'vioscsi', 'NetKVM', 'Balloon', 'vioserial', 'viorng'] as const;

/** Storage drivers: registered as boot-start services so Windows finds its disk. */
export const BOOT_DRIVERS = ['viostor', 'vioscsi'] as const;

/** Server releases on NT 10.0, newest first, as virtio-win names their directories. */
const SERVER_10 = ['2k25', '2k22', '2k19', '2k16'];

/**
 * The virtio-win OS directory names that fit a guest, best first; a driver
 * built for an older release of the same line is a working fallback (virtio-win
 * ships some drivers only for older directories).
 */
export function virtioWinOsDirs(v: Pick<WindowsVersion, 'majorVersion' | 'minorVersion' | 'productName'>): string[] {
  const server = /server/i.test(v.productName);
  const nt = `${v.majorVersion}.${v.minorVersion}`;
  switch (nt) {
    case '10.0': {
      if (!server) return /windows 11/i.test(v.productName) ? ['w11', 'w10'] : ['w10'];
      const year = /\b20(\d\d)\b/.exec(v.productName)?.[1];
      const at = SERVER_10.indexOf(`2k${year ?? ''}`);
      return at < 0 ? [...SERVER_10] : SERVER_10.slice(at);
    }
    case '6.3':
      return server ? ['2k12R2', '2k12'] : ['w8.1', 'w8'];
    case '6.2':
      return server ? ['2k12'] : ['w8'];
    case '6.1':
      return server ? ['2k8R2'] : ['w7'];
    case '6.0':
      return server ? ['2k8'] : [];
    default:
      return [];
  }
}

/** The virtio-win architecture directory for libguestfs' arch name, or undefined when virtio-win has none. */
export function virtioWinArchDir(arch: string): string | undefined {
  if (arch === 'x86_64') return 'amd64';
  if (arch === 'i386' || arch === 'i686') return 'x86';
  if (arch === 'aarch64') return 'ARM64';
  return undefined;
}

/** One driver picked for the guest. */
export interface PickedDriver {
  /** Driver name as in VIRTIO_DRIVERS. */
  name: string;
  /** The OS directory it came from (e.g. "2k19"). */
  osDir: string;
  /** Paths in the listing (as listed) of its .sys, .inf, .cat and .dll files. */
  files: string[];
}

/** What selection found: drivers, and the qemu guest agent installer when present. */
export interface DriverSelection {
  drivers: PickedDriver[];
  /** Path (as listed) of the qemu-ga MSI for the guest's arch. */
  qemuGaMsi?: string;
}

/** Files a driver needs installed; debugging symbols (.pdb) are left out. */
const DRIVER_FILE = /\.(sys|inf|cat|dll|exe)$/i;

/**
 * Picks, for each driver, the files under `DRIVER/OSDIR/ARCH/` for the best
 * OS directory that has any; names match case-insensitively (ISO listings
 * and packages differ in case: "NetKVM", "netkvm").
 */
export function selectVirtioDrivers(listing: readonly string[], guest: WindowsVersion): DriverSelection {
  const archDir = virtioWinArchDir(guest.arch);
  const osDirs = virtioWinOsDirs(guest);
  const drivers: PickedDriver[] = [];
  if (archDir !== undefined) {
    for (const name of VIRTIO_DRIVERS) {
      for (const osDir of osDirs) {
        const dir = `${name}/${osDir}/${archDir}/`.toLowerCase();
        const files = listing.filter((path) => {
          const lower = `/${path.toLowerCase()}`;
          const at = lower.lastIndexOf(`/${dir}`);
          return at >= 0 && !lower.slice(at + dir.length + 1).includes('/') && DRIVER_FILE.test(path);
        });
        if (files.length > 0) {
          drivers.push({ name, osDir, files: [...files].sort() });
          break;
        }
      }
    }
  }
  const msiName = guest.arch === 'x86_64' ? 'qemu-ga-x86_64.msi' : 'qemu-ga-i386.msi';
  const msis = listing.filter((path) => basename(path).toLowerCase() === msiName).sort((a, b) => a.split('/').length - b.split('/').length);
  return { drivers, ...(msis[0] !== undefined ? { qemuGaMsi: msis[0] } : {}) };
}

/** The last component of a '/'-separated path. */
export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
