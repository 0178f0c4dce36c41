/**
 * The domain model passed from stage to stage: what the source is, what the
 * guest inside it is, and what we are writing. Plain data, no behaviour.
 */

/** Firmware the guest boots with. */
export type Firmware = 'bios' | 'uefi';

/** Bus a source disk hangs off, as the source hypervisor described it. */
export type DiskBus = 'scsi' | 'sata' | 'ide' | 'nvme' | 'virtio' | 'fdc';

/** One disk of the source VM, in the order the guest sees them. */
export interface SourceDisk {
  /** Absolute path (or URI) of the disk image as the source describes it. */
  path: string;
  /** Image format as probed by qemu-img ("vmdk", "raw", "qcow2", ...); set by the overlay stage when unknown. */
  format?: string;
  /** Bus of the source controller. */
  bus: DiskBus;
  /** Controller index on that bus (scsi0 → 0). */
  controller: number;
  /** Unit on the controller (scsi0:1 → 1). */
  unit: number;
  /** Source controller model when known (pvscsi, lsilogic, ...). */
  controllerModel?: string;
  /** Set for remote disks: what qemu opens instead of `path` (an NBD export served by nbdkit). */
  backing?: DiskBacking;
}

/** How qemu opens a remote source disk: the overlay's backing file and its format. */
export interface DiskBacking {
  /** qemu file name, e.g. `nbd+unix:///?socket=/var/tmp/v2v-x/nbd0.sock`. */
  filename: string;
  /** Format on top of the export (vmdk, raw...); probed when absent. */
  format?: string;
  /** The remote location for messages (never a password). */
  display: string;
}

/** A removable drive (CD-ROM/floppy) in the source; carried over without media. */
export interface SourceRemovable {
  kind: 'cdrom' | 'floppy';
  bus: DiskBus;
  controller: number;
  unit: number;
}

/** One network interface of the source VM. */
export interface SourceNic {
  /** MAC address, lower case, colon separated, when the source fixes one. */
  mac?: string;
  /** Source NIC model (vmxnet3, e1000, e1000e, ...). */
  model?: string;
  /** Source network / port group name. */
  network?: string;
  /** How the source attached it: "bridged", "nat", "hostonly", ... */
  connectionType?: string;
  /** VMware PCI slot number (VMX `ethernetN.pciSlotNumber`): systemd names the NIC `ens<slot>` in the guest. */
  pciSlot?: number;
}

/** The source VM as parsed from its metadata. */
export interface Source {
  /** Guest name (displayName, or the metadata file name). */
  name: string;
  /** Memory in MiB. */
  memoryMiB: number;
  /** Virtual CPUs. */
  vcpus: number;
  /** CPU topology when the source gives one. */
  cpuTopology?: { sockets: number; cores: number; threads: number };
  firmware: Firmware;
  secureBoot: boolean;
  disks: SourceDisk[];
  removables: SourceRemovable[];
  nics: SourceNic[];
  /** VM generation id when set (vm.genid). */
  genid?: string;
  /** Sound device model when present. */
  sound?: string;
  /** Non-fatal remarks found while parsing (duplicate keys, ignored devices...). */
  warnings: string[];
}

/** A filesystem mount found by inspection. */
export interface GuestMount {
  mountpoint: string;
  device: string;
}

/** One installed kernel of a Linux guest. */
export interface GuestKernel {
  /** Kernel version string, e.g. "6.1.0-28-amd64". */
  version: string;
  /** True when the kernel ships (or has built in) the virtio_blk driver. */
  hasVirtio: boolean;
}

/** What inspection found inside the guest. */
export interface Inspection {
  /** Root device inside the appliance, e.g. "/dev/sda1". */
  root: string;
  type: string;
  distro: string;
  majorVersion: number;
  minorVersion: number;
  productName: string;
  hostname: string;
  arch: string;
  packageFormat: string;
  packageManagement: string;
  mounts: GuestMount[];
  /** Installed package names (only those that matter for conversion are needed). */
  packages: string[];
  kernels: GuestKernel[];
  /** Bootloader found ("grub2", "unknown"). */
  bootloader: string;
  firmware: Firmware;
}

/** Output image format. */
export type OutputFormat = 'raw' | 'qcow2';

/** A disk we will write. */
export interface TargetDisk {
  /** The overlay this disk is copied from. */
  overlay: string;
  /** Final path of the target image. */
  path: string;
  /** Where the copy writes until the disk is complete (renamed to `path` by the output); absent: `path`. */
  partialPath?: string;
  format: OutputFormat;
  /** Virtual size in bytes. */
  virtualSize: number;
  /** Device name in the converted guest (vda, vdb, ...). */
  dev: string;
  /** The target exists already (e.g. the null sink): copy into it with -n, never create or remove it. */
  existing?: boolean;
}

/** The guest capabilities after conversion: what devices the target may use. */
export interface GuestCaps {
  blockBus: 'virtio' | 'sata' | 'ide';
  netModel: 'virtio' | 'e1000';
  machine: 'q35' | 'pc';
  /** libvirt domain type: "kvm" where KVM works, "qemu" (TCG) otherwise. */
  domainType: 'kvm' | 'qemu';
  /** Serial console configured in the guest. */
  serialConsole: boolean;
}

/** A static IP configuration of one NIC: read from the guest, or given with `--mac MAC:ip:...`. */
export interface StaticIp {
  /** IPv4 or IPv6 address, without prefix. */
  address: string;
  /** Prefix length (24 for 255.255.255.0). */
  prefix?: number;
  gateway?: string;
  /** DNS servers, in order. */
  dns: string[];
}

/**
 * What conversion found about one source NIC's network in the guest and what
 * it did so the guest keeps its network on the new NIC. One per source NIC
 * the guest's config could be tied to (and one per interface name that could
 * not be tied to any NIC, with `mac` absent).
 */
export interface NicNetworkReport {
  /** Source NIC MAC (lower case, colon separated); absent when no NIC could be tied to the config. */
  mac?: string;
  /** Interface names (Linux) or adapter ids/descriptions (Windows) the guest's config uses for this NIC. */
  names: string[];
  /** How the config was tied to the NIC. */
  matchedBy?: 'mac' | 'pci-slot' | 'only-nic' | 'registry' | 'option';
  /** Linux: the interface name pinned to the MAC (e.g. "ens192"). */
  pinned?: string;
  /** Guest files written to pin it or to re-apply addresses (e.g. /etc/systemd/network/10-v2v-ens192.link). */
  files: string[];
  /** Static addresses found in the guest (or given with --mac ...:ip:...). */
  staticIps: StaticIp[];
  /** The config uses DHCP. */
  dhcp?: boolean;
  /** Where the settings came from. */
  source: 'guest' | 'option';
  /** Why nothing was done, when nothing was (ambiguity, unsupported config...). */
  note?: string;
}

/** Linux-style drive suffix for a disk index: 0 → a, 25 → z, 26 → aa. */
export function driveLetters(index: number): string {
  let n = index;
  let letters = '';
  do {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return letters;
}

/** A qcow2 overlay over one source disk: all writes land here, never in the source. */
export interface Overlay {
  disk: SourceDisk;
  /** Absolute path of the overlay file. */
  path: string;
  /** Format of the source disk (backing file). */
  backingFormat: string;
  virtualSize: number;
}
