/**
 * What a converted Windows guest does at its first boot, as data and text:
 * install the virtio drivers with pnputil, install the qemu guest agent,
 * uninstall VMware Tools. Pure functions; windows.ts writes the results.
 */

/** Where the first-boot files go in the guest (a Windows path). */
export const FIRSTBOOT_DIR = 'C:\\Program Files\\v2v\\Firstboot';
/** The script the service (or RunOnce) runs. */
export const FIRSTBOOT_SCRIPT = `${FIRSTBOOT_DIR}\\firstboot.bat`;
/** The service that runs it at boot when a srvany-type program is available. */
export const FIRSTBOOT_SERVICE = 'v2vfirstboot';
/** Where the drivers are copied (a Windows path). */
export const VIRTIO_DRIVER_DIR = 'C:\\Windows\\Drivers\\VirtIO';

/** One program listed in the guest's Uninstall key. */
export interface InstalledProgram {
  displayName: string;
  uninstallString?: string;
}

/**
 * Silent uninstall commands for VMware Tools (DisplayName contains "VMware
 * Tools"). An MSI product ("MsiExec.exe /X{GUID}" or "/I{GUID}") becomes
 * `msiexec /x {GUID} /qn /norestart`: the registered command would show a
 * dialog nobody answers at first boot. Returns the commands and the entries
 * that could not be made silent.
 */
export function vmwareToolsUninstall(programs: readonly InstalledProgram[]): { commands: string[]; unsupported: string[] } {
  const commands: string[] = [];
  const unsupported: string[] = [];
  for (const p of programs.filter((p) => /vmware tools/i.test(p.displayName))) {
    const guid = /msiexec(?:\.exe)?\s+\/[xi]\s*(\{[0-9a-f-]{36}\})/i.exec(p.uninstallString ?? '')?.[1];
    if (guid !== undefined) commands.push(`msiexec /x ${guid.toUpperCase()} /qn /norestart`);
    else unsupported.push(`${p.displayName} (${p.uninstallString ?? 'no UninstallString'})`);
  }
  return { commands: [...new Set(commands)], unsupported };
}

/** What the first-boot script does. */
export interface FirstbootPlan {
  /** Install the drivers in VIRTIO_DRIVER_DIR with pnputil. */
  installDrivers: boolean;
  /** File name of the qemu-ga MSI copied into FIRSTBOOT_DIR, when there is one. */
  qemuGaMsi?: string;
  /** Commands uninstalling VMware Tools. */
  uninstallCommands: string[];
  /** Run by the service: wait for Plug and Play first, and disable the service at the end. */
  service?: { pnpWait: boolean };
}

/**
 * The first-boot batch file (CRLF line ends, as cmd.exe expects). Each step
 * logs to firstboot.log beside it; the script renames itself when done so a
 * second run (RunOnce is only removed once it starts) does nothing.
 */
export function firstbootScript(plan: FirstbootPlan): string {
  const log = `"${FIRSTBOOT_DIR}\\firstboot.log"`;
  const lines = [
    '@echo off',
    'rem Written by v2v when this guest was converted to run on KVM: runs once, at first boot.',
    `echo %DATE% %TIME% v2v first boot: starting >> ${log}`,
  ];
  if (plan.service?.pnpWait) lines.push(`"${FIRSTBOOT_DIR}\\pnp_wait.exe" >> ${log} 2>&1`);
  if (plan.installDrivers) lines.push(`pnputil -i -a ${VIRTIO_DRIVER_DIR}\\*.inf >> ${log} 2>&1`);
  if (plan.qemuGaMsi !== undefined) {
    lines.push(`msiexec /i "${FIRSTBOOT_DIR}\\${plan.qemuGaMsi}" /qn /norestart /l+*vx "${FIRSTBOOT_DIR}\\qemu-ga-install.log" >> ${log} 2>&1`);
  }
  for (const command of plan.uninstallCommands) lines.push(`${command} >> ${log} 2>&1`);
  lines.push(`echo %DATE% %TIME% v2v first boot: done >> ${log}`);
  if (plan.service) lines.push(`sc config ${FIRSTBOOT_SERVICE} start= disabled >> ${log} 2>&1`);
  lines.push(`move /y "${FIRSTBOOT_SCRIPT}" "${FIRSTBOOT_SCRIPT}.done" >> ${log} 2>&1`);
  return `${lines.join('\r\n')}\r\n`;
}

/** The command line that runs the script (service CommandLine and RunOnce value). */
export function firstbootCommandLine(): string {
  return `cmd /c "${FIRSTBOOT_SCRIPT}"`;
}
