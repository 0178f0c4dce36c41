/**
 * `-o qemu -os DIR`: disks `DIR/NAME-sdX` (as -o local) and `DIR/NAME.sh`, an
 * executable launcher that runs the guest under qemu-system-x86_64.
 *
 * The script runs `exec qemu-system-x86_64 ARGS "$@"`, so extra qemu options
 * can be appended (e.g. `./NAME.sh -display none`). Every argument is
 * shell-quoted by {@link shellQuote}, and file names inside qemu option
 * values have their commas doubled ({@link qemuOptionValue}), so any guest
 * or directory name is safe.
 *
 * No network device by default: a converted guest's first boot may run
 * scripts that reach the network (package installs), and qemu's default
 * user-mode NIC would silently give it one. Pass `userNetwork: true` for one
 * user-mode (SLIRP) NIC per source NIC, or append `-netdev`/`-device` options
 * when running the script.
 *
 * UEFI guests use Debian's OVMF (package "ovmf"); the script copies the
 * variable-store template to `DIR/NAME-VARS.fd` on its first run and says
 * which package to install when the firmware is missing.
 */
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inspection, Source, GuestCaps, TargetDisk } from '../model.js';
import { bootFirmware } from './firmware.js';
import {
  checkOutputDirectory,
  diskPaths,
  finishDisks,
  planDirectoryDisks,
  reserveOutputFiles,
  type DirectoryOutputOptions,
} from './directory.js';
import { copiedPath, OutputReservation } from './reservation.js';
import type { Output } from './types.js';

/** OVMF files as Debian 12's ovmf package installs them (4 MiB flash layout). */
export const OVMF = {
  code: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  vars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
  /** Secure-boot build; needs SMM. */
  secureCode: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd',
  /** Variable store with Microsoft's keys enrolled, as Windows and shim expect. */
  secureVars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd',
} as const;

/** Options of the -o qemu module. */
export interface QemuOutputOptions extends DirectoryOutputOptions {
  /** Give the guest one user-mode NIC per source NIC (default: no network device). */
  userNetwork?: boolean;
}

/** What the launcher needs to know about the converted guest. */
export interface LauncherInput {
  name: string;
  source: Source;
  inspection: Inspection;
  caps: GuestCaps;
  targets: TargetDisk[];
  /** Where the UEFI variable store of this guest lives (used only for UEFI guests). */
  varsPath: string;
  userNetwork: boolean;
}

/** Quotes a word for a POSIX shell: safe words unchanged, anything else in single quotes. Pure. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Escapes a value inside a qemu `key=value,...` option: a comma is written as two. Pure. */
export function qemuOptionValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** Firmware files the launcher uses for a UEFI guest (by its metadata or by inspection), or undefined for BIOS. */
export function uefiFirmware(source: Source, inspection?: Pick<Inspection, 'firmware'>): { code: string; template: string } | undefined {
  if (bootFirmware(source, inspection) !== 'uefi') return undefined;
  return source.secureBoot ? { code: OVMF.secureCode, template: OVMF.secureVars } : { code: OVMF.code, template: OVMF.vars };
}

/** The qemu-system-x86_64 arguments, one inner array per option and its value. Pure. */
export function launcherArgs(input: LauncherInput): string[][] {
  const { source, caps } = input;
  const secureBoot = source.firmware === 'uefi' && source.secureBoot;
  const args: string[][] = [['-no-user-config'], ['-nodefaults'], ['-name', qemuOptionValue(input.name)]];
  args.push(['-machine', secureBoot ? `${caps.machine},smm=on` : caps.machine]);
  args.push(['-accel', caps.domainType === 'kvm' ? 'kvm' : 'tcg']);
  // As the libvirt XML: the host CPU under KVM; under TCG the most capable
  // emulated one, since qemu64 lacks what x86-64-v2 distributions need.
  args.push(['-cpu', caps.domainType === 'kvm' ? 'host' : 'max']);
  args.push(['-m', String(source.memoryMiB)]);
  const topo = source.cpuTopology;
  args.push(['-smp', topo ? `${source.vcpus},sockets=${topo.sockets},cores=${topo.cores},threads=${topo.threads}` : String(source.vcpus)]);
  const firmware = uefiFirmware(source, input.inspection);
  if (firmware !== undefined) {
    args.push(['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptionValue(firmware.code)}`]);
    args.push(['-drive', `if=pflash,format=raw,unit=1,file=${qemuOptionValue(input.varsPath)}`]);
    if (secureBoot) args.push(['-global', 'driver=cfi.pflash01,property=secure,value=on']);
  }
  args.push(...diskArgs(input.targets, caps));
  if (input.userNetwork) {
    const device = caps.netModel === 'virtio' ? 'virtio-net-pci' : 'e1000';
    source.nics.forEach((nic, index) => {
      args.push(['-netdev', `user,id=net${index}`]);
      args.push(['-device', `${device},netdev=net${index}${nic.mac === undefined ? '' : `,mac=${nic.mac}`}`]);
    });
  }
  args.push(['-rtc', input.inspection.type === 'windows' ? 'base=localtime' : 'base=utc']);
  args.push(['-device', 'VGA']);
  if (caps.serialConsole) args.push(['-serial', 'stdio']);
  args.push(['-device', 'virtio-rng-pci'], ['-device', 'virtio-balloon-pci']);
  return args;
}

/** Ports of one AHCI controller: q35's built-in ICH9 one and each `-device ahci` (QEMU's hw/ide/ahci: 6). */
export const AHCI_PORTS = 6;

/**
 * The disks' options. Virtio: `if=virtio`, one PCI device each. IDE (the pc
 * machine type): `if=ide` (at most 4: checkDeviceRoom refuses more before
 * the copy). SATA (a Windows guest without virtio-win): explicit AHCI ports,
 * as libvirt lays them out: on q35 the first 6 on the built-in ICH9
 * controller (bus `ide.0`..`ide.5`), then one `-device ahci` per 6 more
 * (`sata1.0`...); `if=ide` would stop at the built-in controller's 6 ports
 * (measured with QEMU 7.2: a 7th is refused, docs/options.md). The first
 * disk gets bootindex 1: the firmware may find an added controller first. Pure.
 */
export function diskArgs(targets: TargetDisk[], caps: Pick<GuestCaps, 'blockBus' | 'machine'>): string[][] {
  const file = (disk: TargetDisk): string => `file=${qemuOptionValue(disk.path)},format=${disk.format}`;
  if (caps.blockBus === 'virtio' || (caps.blockBus === 'ide' && caps.machine === 'pc')) {
    return targets.map((disk) => ['-drive', `${file(disk)},if=${caps.blockBus},discard=unmap`]);
  }
  const builtIn = caps.machine === 'q35';
  const args: string[][] = [];
  for (let controller = builtIn ? 1 : 0; controller * AHCI_PORTS < targets.length; controller++) {
    args.push(['-device', `ahci,id=sata${controller}`]);
  }
  targets.forEach((disk, index) => {
    const controller = Math.floor(index / AHCI_PORTS);
    const port = index % AHCI_PORTS;
    const bus = builtIn && controller === 0 ? `ide.${port}` : `sata${controller}.${port}`;
    args.push(['-drive', `${file(disk)},if=none,id=disk${index},discard=unmap`]);
    args.push(['-device', `ide-hd,drive=disk${index},bus=${bus}${index === 0 ? ',bootindex=1' : ''}`]);
  });
  return args;
}

/** The launcher script text. Pure. */
export function buildLauncherScript(input: LauncherInput): string {
  const lines = [
    '#!/bin/sh -',
    `# Runs the guest ${input.name} converted by v2v. Extra arguments are passed to qemu,`,
    '# e.g. "-display none". No network device is configured unless v2v was asked for one.',
    'set -e',
  ];
  const firmware = uefiFirmware(input.source, input.inspection);
  if (firmware !== undefined) {
    const script = shellQuote(`${input.name}.sh`);
    for (const file of [firmware.code, firmware.template]) {
      const missing = `${script}: UEFI firmware ${file} is missing: install the ovmf package.`;
      lines.push(`[ -r ${shellQuote(file)} ] || { echo ${shellQuote(missing)} >&2; exit 1; }`);
    }
    // The guest writes its boot entries to its own copy of the variable store.
    lines.push(`[ -e ${shellQuote(input.varsPath)} ] || cp -- ${shellQuote(firmware.template)} ${shellQuote(input.varsPath)}`);
  }
  const options = launcherArgs(input).map((group) => group.map(shellQuote).join(' '));
  lines.push(['exec qemu-system-x86_64', ...options, '"$@"'].join(' \\\n  '));
  return `${lines.join('\n')}\n`;
}

/** The qemu-launcher output module. */
export function qemuOutput(options: QemuOutputOptions): Output {
  const dir = options.storage;
  const scriptPath = (name: string): string => join(dir, `${name}.sh`);
  const varsPath = (name: string): string => join(dir, `${name}-VARS.fd`);
  const reservation = new OutputReservation();
  return {
    describe: `qemu launcher and disks in ${dir}`,

    planDisks(name, overlays) {
      return planDirectoryDisks(dir, name, overlays, options.format);
    },

    async preflight(name, targets, bytesNeeded, notify = () => undefined) {
      // A stale VARS file would be reused by the new script: refuse it too.
      const paths = [scriptPath(name), `${scriptPath(name)}.partial`, varsPath(name), ...diskPaths(targets)];
      await checkOutputDirectory(dir, paths, bytesNeeded, name, { reservation, notify });
      // The VARS file is the launcher's to create, at the guest's first start: only checked.
      await reserveOutputFiles(reservation, targets, [scriptPath(name)]);
    },

    discard: () => reservation.discard(),

    adoptDisk: (target, file) => reservation.adopt(file, copiedPath(target)),

    async finish(input) {
      const path = scriptPath(input.name);
      const script = buildLauncherScript({ ...input, varsPath: varsPath(input.name), userNetwork: options.userNetwork ?? false });
      await finishDisks(reservation, input.targets);
      await reservation.writeFile(path, script, 0o755);
      await reservation.close();
      await chmod(path, 0o755); // the umask may have cleared bits at creation
      return [path, ...input.targets.map((t) => t.path)];
    },
  };
}
