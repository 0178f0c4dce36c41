/**
 * Conversion of Windows guests: copy the virtio-win drivers in and make the
 * storage driver start at boot (SYSTEM hive), let Plug and Play find the
 * rest (DevicePath in SOFTWARE), and leave a first-boot script that installs
 * the drivers, sets each NIC's static TCP/IP settings again on its new
 * adapter (network.ts), installs the qemu guest agent and
 * uninstalls VMware Tools.
 *
 * Hibernated / Fast Startup NTFS never gets here: the inspect stage refuses
 * it (src/convert/root/choice.ts: a hiberfil.sys with a hibernation header, or a failed
 * read-write mount). With no
 * virtio-win drivers the guest is still converted, to emulated SATA and e1000
 * devices that Windows drives with its own drivers, and a warning says how
 * to do better.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLines, type Guestfs } from '../../../drivers/guestfish.js';
import { exportKey, hivexregeditAvailable, mergeRegText } from '../../../drivers/hivexregedit.js';
import { ConversionError } from '../../errors.js';
import type { ConvertInput, ConvertResult } from '../convert-input.js';
import { BOOT_DRIVERS, basename, selectVirtioDrivers, type DriverSelection } from './virtio-win.js';
import { driverTreeFiles, type VirtioWinLocation } from './virtio-win-location.js';
import {
  FIRSTBOOT_SERVICE,
  firstbootCommandLine,
  firstbootScript,
  NETWORK_SCRIPT,
  networkScript,
  vmwareToolsUninstall,
  type FirstbootPlan,
  type InstalledProgram,
} from './firstboot.js';
import { appendDevicePath, buildRegFile, parseRegExport, type RegKey } from './registry.js';
import { cidr, NET_CLASS_KEY, planWindowsNetwork, readWindowsAdapters, TCPIP_INTERFACES_KEY, type WindowsNetworkPlan } from './network.js';

/** The PCI ids (CriticalDeviceDatabase key names) each boot driver drives: legacy and modern virtio. */
export const BOOT_DRIVER_PCI_IDS: Record<(typeof BOOT_DRIVERS)[number], string[]> = {
  viostor: [
    'pci#ven_1af4&dev_1001&subsys_00000000',
    'pci#ven_1af4&dev_1001&subsys_00020000',
    'pci#ven_1af4&dev_1001&subsys_00021af4',
    'pci#ven_1af4&dev_1001&subsys_00021af4&rev_00',
    'pci#ven_1af4&dev_1042&subsys_11001af4',
    'pci#ven_1af4&dev_1042&subsys_11001af4&rev_01',
  ],
  vioscsi: [
    'pci#ven_1af4&dev_1004&subsys_00081af4',
    'pci#ven_1af4&dev_1004&subsys_00081af4&rev_00',
    'pci#ven_1af4&dev_1048&subsys_11001af4',
    'pci#ven_1af4&dev_1048&subsys_11001af4&rev_01',
  ],
};

/** Device class of SCSI and RAID controllers. */
const SCSI_ADAPTER_CLASS = '{4D36E97B-E325-11CE-BFC1-08002BE10318}';

/** Where the srvany-type service program lives when installed (virt-v2v's layout). */
const DEFAULT_VIRT_TOOLS_DIR = '/usr/share/virt-tools';

/** DevicePath entry for the copied drivers. */
const DEVICE_PATH_ENTRY = '%SystemRoot%\\Drivers\\VirtIO';

/** The SYSTEM keys registering a boot-start storage driver (service + CriticalDeviceDatabase). */
export function bootDriverKeys(controlSet: string, driver: (typeof BOOT_DRIVERS)[number]): RegKey[] {
  return [
    {
      path: `${controlSet}\\Services\\${driver}`,
      values: {
        Type: { type: 'dword', data: 1 },
        Start: { type: 'dword', data: 0 },
        ErrorControl: { type: 'dword', data: 1 },
        Group: { type: 'sz', data: 'SCSI miniport' },
        ImagePath: { type: 'expand_sz', data: `system32\\drivers\\${driver}.sys` },
      },
    },
    ...BOOT_DRIVER_PCI_IDS[driver].map((id) => ({
      path: `${controlSet}\\Control\\CriticalDeviceDatabase\\${id}`,
      values: { Service: { type: 'sz' as const, data: driver }, ClassGUID: { type: 'sz' as const, data: SCSI_ADAPTER_CLASS } },
    })),
  ];
}

/** The SYSTEM keys of the first-boot service run by rhsrvany. */
export function firstbootServiceKeys(controlSet: string, firstbootDir: string): RegKey[] {
  return [
    {
      path: `${controlSet}\\Services\\${FIRSTBOOT_SERVICE}`,
      values: {
        Type: { type: 'dword', data: 0x10 },
        Start: { type: 'dword', data: 2 },
        ErrorControl: { type: 'dword', data: 1 },
        ImagePath: { type: 'expand_sz', data: `${firstbootDir}\\rhsrvany.exe` },
        DisplayName: { type: 'sz', data: 'v2v first boot' },
        ObjectName: { type: 'sz', data: 'LocalSystem' },
      },
    },
    {
      path: `${controlSet}\\Services\\${FIRSTBOOT_SERVICE}\\Parameters`,
      values: { CommandLine: { type: 'sz', data: firstbootCommandLine() }, PWD: { type: 'sz', data: firstbootDir } },
    },
  ];
}

/** The srvany-type service programs on the host, when installed. */
async function findServiceTools(env: NodeJS.ProcessEnv): Promise<{ rhsrvany: string; pnpWait?: string } | undefined> {
  const dir = env['VIRT_TOOLS_DATA_DIR'] || DEFAULT_VIRT_TOOLS_DIR;
  const isFile = (path: string): Promise<boolean> =>
    stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
  const rhsrvany = join(dir, 'rhsrvany.exe');
  if (!(await isFile(rhsrvany))) return undefined;
  const pnpWait = join(dir, 'pnp_wait.exe');
  return { rhsrvany, ...((await isFile(pnpWait)) ? { pnpWait } : {}) };
}

/** A virtio-win tree to read from: its file listing and a way to copy one file into the guest. */
interface DriverSource {
  files: string[];
  copyTo(file: string, guestPath: string): Promise<void>;
  close(): Promise<void>;
}

/** Where the ISO is mounted inside the guest's tree while files are copied (removed afterwards). */
const ISO_MOUNTPOINT = '/.v2v-virtio-win';

/** Opens a virtio-win directory (host) or ISO (the last drive of the appliance). */
async function openDriverSource(g: Guestfs, location: VirtioWinLocation): Promise<DriverSource> {
  if (location.kind === 'dir') {
    return {
      files: await driverTreeFiles(location.path),
      copyTo: async (file, guestPath) => {
        await g.call('upload', join(location.path, file), guestPath);
      },
      close: () => Promise.resolve(),
    };
  }
  // The inspect stage added the ISO last, read-only.
  const device = parseLines(await g.call('list-devices')).pop();
  if (device === undefined) throw new Error('internal: the virtio-win ISO drive is missing from the appliance');
  await g.call('mkdir', ISO_MOUNTPOINT);
  try {
    await g.call('mount-ro', device, ISO_MOUNTPOINT);
  } catch (error) {
    await g.call('rmdir', ISO_MOUNTPOINT).catch(() => undefined);
    throw new ConversionError(
      `${location.path} could not be read as an ISO image (${error instanceof Error ? error.message : String(error)}): pass the virtio-win ISO or a directory.`,
    );
  }
  const files = parseLines(await g.call('find', ISO_MOUNTPOINT));
  const isFile = new Set<string>();
  for (const file of files) if (/\.[A-Za-z0-9]+$/.test(file)) isFile.add(file);
  return {
    files: [...isFile],
    copyTo: async (file, guestPath) => {
      await g.call('cp', `${ISO_MOUNTPOINT}/${file}`, guestPath);
    },
    close: async () => {
      await g.call('umount', ISO_MOUNTPOINT);
      await g.call('rmdir', ISO_MOUNTPOINT);
    },
  };
}

/** Reads the installed programs from an exported Uninstall key. */
function installedPrograms(exported: string): InstalledProgram[] {
  const programs: InstalledProgram[] = [];
  for (const values of parseRegExport(exported, 'HKEY_LOCAL_MACHINE\\SOFTWARE').values()) {
    const displayName = values.get('displayname')?.text;
    if (displayName === undefined) continue;
    const uninstallString = values.get('uninstallstring')?.text;
    programs.push({ displayName, ...(uninstallString !== undefined ? { uninstallString } : {}) });
  }
  return programs;
}

/** The guest's label for messages. */
function windowsName(input: ConvertInput): string {
  const { productName, majorVersion, minorVersion } = input.inspection;
  return productName && productName !== 'unknown' ? productName : `Windows ${majorVersion}.${minorVersion}`;
}

/** Converts a mounted Windows guest; returns the devices it can now use. */
export async function convertWindows(input: ConvertInput): Promise<ConvertResult> {
  const { g, inspection, log, warn } = input;
  const env = input.env ?? process.env;
  // Checked before the first change to the guest.
  if (!(await hivexregeditAvailable())) {
    throw new ConversionError(
      'hivexregedit is missing, and v2v edits the Windows registry with it: install the libwin-hivex-perl package (scripts/setup.sh does).',
    );
  }
  const systemRoot = await g.caseSensitivePath(await g.inspectGet('windows-systemroot', inspection.root));
  const controlSet = await g.inspectGet('windows-current-control-set', inspection.root);
  const hiveDir = join(input.tmpdir, 'windows-registry');
  await mkdir(hiveDir, { recursive: true });
  const hives = {
    SYSTEM: {
      guest: await g.caseSensitivePath(`${systemRoot}/System32/config/SYSTEM`),
      host: join(hiveDir, 'SYSTEM'),
      keys: [] as RegKey[],
    },
    SOFTWARE: {
      guest: await g.caseSensitivePath(`${systemRoot}/System32/config/SOFTWARE`),
      host: join(hiveDir, 'SOFTWARE'),
      keys: [] as RegKey[],
    },
  };
  for (const hive of Object.values(hives)) await g.call('download', hive.guest, hive.host);

  const network = await planNetwork(input, hives.SYSTEM.host, controlSet);
  const name = windowsName(input);
  const selection = await copyDrivers(input, systemRoot, name);
  const installed = selection.drivers.map((d) => d.name);
  for (const driver of BOOT_DRIVERS) {
    if (installed.includes(driver)) hives.SYSTEM.keys.push(...bootDriverKeys(controlSet, driver));
  }
  if (installed.length > 0) {
    const currentVersion = parseRegExport(
      await exportKey(hives.SOFTWARE.host, 'HKEY_LOCAL_MACHINE\\SOFTWARE', '\\Microsoft\\Windows\\CurrentVersion', 1),
      'HKEY_LOCAL_MACHINE\\SOFTWARE',
    );
    const devicePath = currentVersion.get('microsoft\\windows\\currentversion')?.get('devicepath')?.text;
    const updated = appendDevicePath(devicePath ?? '%SystemRoot%\\inf', DEVICE_PATH_ENTRY);
    hives.SOFTWARE.keys.push({ path: 'Microsoft\\Windows\\CurrentVersion', values: { DevicePath: { type: 'expand_sz', data: updated } } });
    log(`DevicePath: ${updated}`);
  }

  const uninstallKey = await exportKey(
    hives.SOFTWARE.host,
    'HKEY_LOCAL_MACHINE\\SOFTWARE',
    '\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
    2,
  );
  const uninstall = vmwareToolsUninstall(installedPrograms(uninstallKey));
  for (const entry of uninstall.unsupported) warn(`${entry} cannot be uninstalled silently: uninstall it by hand after the first boot`);
  await setUpFirstboot(
    input,
    hives,
    controlSet,
    {
      installDrivers: installed.length > 0,
      ...(selection.qemuGaMsi !== undefined ? { qemuGaMsi: basename(selection.qemuGaMsi) } : {}),
      uninstallCommands: uninstall.commands,
      network: network.apply.length > 0,
    },
    env,
  );
  if (network.apply.length > 0) {
    await g.writeFile(`${await firstbootGuestDir(g)}/network.ps1`, networkScript(network.apply));
    log(`static TCP/IP settings script written: ${NETWORK_SCRIPT}`);
  }

  for (const [prefixName, hive] of Object.entries(hives)) {
    if (hive.keys.length === 0) continue;
    await mergeRegText(hive.host, `HKEY_LOCAL_MACHINE\\${prefixName}`, buildRegFile(`HKEY_LOCAL_MACHINE\\${prefixName}`, hive.keys));
    await g.call('upload', hive.host, hive.guest);
    log(`${hive.guest}: ${hive.keys.length} key(s) set`);
  }
  log('conversion of the guest finished');
  const blockVirtio = installed.includes('viostor');
  const netVirtio = installed.includes('NetKVM');
  return {
    blockBus: blockVirtio ? 'virtio' : 'sata',
    netModel: netVirtio ? 'virtio' : 'e1000',
    machine: 'q35',
    serialConsole: false,
    network: network.reports,
  };
}

/**
 * Reads every adapter's TCP/IP settings from the SYSTEM hive copy (two
 * exports: the network adapter class and the Tcpip interfaces), ties them to
 * the source NICs, applies --mac MAC:ip:..., logs each NIC and warns about
 * what cannot be re-applied.
 */
async function planNetwork(input: ConvertInput, systemHive: string, controlSet: string): Promise<WindowsNetworkPlan> {
  const { log, warn } = input;
  const prefix = 'HKEY_LOCAL_MACHINE\\SYSTEM';
  const classKeys = parseRegExport(await exportKey(systemHive, prefix, `\\${controlSet}\\${NET_CLASS_KEY}`, 2), prefix);
  const interfaceKeys = parseRegExport(await exportKey(systemHive, prefix, `\\${controlSet}\\${TCPIP_INTERFACES_KEY}`, 2), prefix);
  const { adapters, problems } = readWindowsAdapters(classKeys, interfaceKeys, controlSet);
  const plan = planWindowsNetwork(adapters, input.source.nics, input.staticIps ?? new Map(), NETWORK_SCRIPT);
  for (const r of plan.reports) {
    const what =
      r.staticIps.length > 0
        ? `static ${r.staticIps.map(cidr).join(', ')}${r.source === 'option' ? ' (from --mac)' : ''}`
        : r.dhcp
          ? 'DHCP'
          : 'no settings';
    const done = r.files.length > 0 ? 're-applied at first boot' : (r.note ?? 'nothing to do');
    log(
      `network: ${r.mac ?? 'no NIC'}${r.names.length > 0 ? ` = ${r.names.join(' ')}` : ''}${r.matchedBy ? ` (by ${r.matchedBy})` : ''}: ${what}: ${done}`,
    );
  }
  for (const problem of [...problems, ...plan.warnings]) warn(problem);
  return plan;
}

/** Copies the picked drivers into C:\Windows\Drivers\VirtIO (boot drivers also into System32\drivers); warns when there are none. */
async function copyDrivers(input: ConvertInput, systemRoot: string, name: string): Promise<DriverSelection> {
  const { g, log, warn } = input;
  const location = input.virtioWin;
  const noDrivers = (why: string): DriverSelection => {
    warn(
      `no virtio-win drivers found for ${name}${why}: the guest will use slower emulated SATA/e1000 devices; install virtio-win or pass --virtio-win PATH and convert again`,
    );
    return { drivers: [] };
  };
  if (location === undefined) return noDrivers(' (no --virtio-win, VIRTIO_WIN or /usr/share/virtio-win)');
  const source = await openDriverSource(g, location);
  try {
    const selection = selectVirtioDrivers(source.files, input.inspection);
    if (selection.drivers.length === 0) return noDrivers(` in ${location.path}`);
    const driverDir = `${await g.caseSensitivePath(`${systemRoot}/Drivers`)}/VirtIO`;
    await g.call('mkdir-p', driverDir);
    const sysDrivers = await g.caseSensitivePath(`${systemRoot}/System32/drivers`);
    for (const driver of selection.drivers) {
      for (const file of driver.files) {
        await source.copyTo(file, `${driverDir}/${basename(file)}`);
        if ((BOOT_DRIVERS as readonly string[]).includes(driver.name) && basename(file).toLowerCase() === `${driver.name}.sys`) {
          await source.copyTo(file, `${sysDrivers}/${driver.name}.sys`);
        }
      }
      log(`${driver.name} (${driver.osDir}) copied to ${driverDir}`);
    }
    const missing = ['viostor', 'NetKVM'].filter((d) => !selection.drivers.some((p) => p.name === d));
    if (missing.length > 0) {
      const effects = [
        ...(missing.includes('viostor') ? ['disks use emulated SATA'] : []),
        ...(missing.includes('NetKVM') ? ['NICs use emulated e1000'] : []),
      ];
      warn(`${location.path} has no ${missing.join(' or ')} driver for ${name}: ${effects.join(', ')}`);
    }
    if (selection.qemuGaMsi !== undefined) {
      const firstbootDir = await firstbootGuestDir(g);
      await g.call('mkdir-p', firstbootDir);
      await source.copyTo(selection.qemuGaMsi, `${firstbootDir}/${basename(selection.qemuGaMsi)}`);
    } else {
      warn(`${location.path} has no qemu guest agent installer (qemu-ga-x86_64.msi): qemu-ga is not installed in the guest`);
    }
    return selection;
  } finally {
    await source.close();
  }
}

/** The guest path of C:\Program Files\v2v\Firstboot, with the existing part's case. */
async function firstbootGuestDir(g: Guestfs): Promise<string> {
  return `${await g.caseSensitivePath('/Program Files')}/v2v/Firstboot`;
}

/**
 * Writes the first-boot script and arranges for it to run: as a service
 * (rhsrvany) when the host has one, else from RunOnce at the first
 * administrator logon, with a warning saying so.
 */
async function setUpFirstboot(
  input: ConvertInput,
  hives: { SYSTEM: { keys: RegKey[] }; SOFTWARE: { keys: RegKey[] } },
  controlSet: string,
  plan: FirstbootPlan,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { g, log, warn } = input;
  if (!plan.installDrivers && plan.qemuGaMsi === undefined && plan.uninstallCommands.length === 0 && !plan.network) return;
  const dir = await firstbootGuestDir(g);
  await g.call('mkdir-p', dir);
  const tools = await findServiceTools(env);
  const windowsDir = 'C:\\Program Files\\v2v\\Firstboot';
  if (tools) {
    await g.call('upload', tools.rhsrvany, `${dir}/rhsrvany.exe`);
    if (tools.pnpWait) await g.call('upload', tools.pnpWait, `${dir}/pnp_wait.exe`);
    hives.SYSTEM.keys.push(...firstbootServiceKeys(controlSet, windowsDir));
    log(`first-boot service ${FIRSTBOOT_SERVICE} installed (rhsrvany)`);
  } else {
    hives.SOFTWARE.keys.push({
      path: 'Microsoft\\Windows\\CurrentVersion\\RunOnce',
      values: { [FIRSTBOOT_SERVICE]: { type: 'sz', data: firstbootCommandLine() } },
    });
    warn(
      `no rhsrvany.exe in ${env['VIRT_TOOLS_DATA_DIR'] || DEFAULT_VIRT_TOOLS_DIR}: the first-boot script (driver install, ${plan.network ? 'static IP settings, ' : ''}qemu-ga, VMware Tools removal) runs from RunOnce at the first administrator logon, not at boot; to run it at boot, put rhsrvany.exe and pnp_wait.exe (the rhsrvany project, also in Fedora's virt-v2v / mingw-srvany packages) there or set VIRT_TOOLS_DATA_DIR, and convert again`,
    );
  }
  const script = firstbootScript({ ...plan, ...(tools ? { service: { pnpWait: tools.pnpWait !== undefined } } : {}) });
  await g.writeFile(`${dir}/firstboot.bat`, script);
  log(`first-boot script written: ${windowsDir}\\firstboot.bat`);
}
