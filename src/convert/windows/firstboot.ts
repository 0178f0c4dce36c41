/**
 * What a converted Windows guest does at its first boot, as data and text:
 * install the virtio drivers with pnputil, set the source NICs' static
 * TCP/IP settings again on the new adapters, install the qemu guest agent,
 * uninstall VMware Tools. Pure functions; convert.ts writes the results.
 */
import { isIP } from 'node:net';
import type { StaticIp } from '../../model.js';

/** Where the first-boot files go in the guest (a Windows path). */
export const FIRSTBOOT_DIR = 'C:\\Program Files\\v2v\\Firstboot';
/** The script the service (or RunOnce) runs. */
export const FIRSTBOOT_SCRIPT = `${FIRSTBOOT_DIR}\\firstboot.bat`;
/** The service that runs it at boot when a srvany-type program is available. */
export const FIRSTBOOT_SERVICE = 'v2vfirstboot';
/** The PowerShell script re-applying static IP settings, run by the first-boot script. */
export const NETWORK_SCRIPT = `${FIRSTBOOT_DIR}\\network.ps1`;
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
  /** Run NETWORK_SCRIPT (after the drivers are installed, so the new adapters exist). */
  network?: boolean;
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
  if (plan.network)
    lines.push(`powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${NETWORK_SCRIPT}" >> ${log} 2>&1`);
  if (plan.qemuGaMsi !== undefined) {
    lines.push(
      `msiexec /i "${FIRSTBOOT_DIR}\\${plan.qemuGaMsi}" /qn /norestart /l+*vx "${FIRSTBOOT_DIR}\\qemu-ga-install.log" >> ${log} 2>&1`,
    );
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

/** Seconds the network script waits for each adapter to appear (Plug and Play installs its driver first). */
export const ADAPTER_WAIT_SECONDS = 600;

/** Prefix length used when `--mac MAC:ip:ADDRESS` gives none. */
export function defaultPrefix(address: string): number {
  return isIP(address) === 6 ? 64 : 24;
}

/**
 * The PowerShell script (CRLF line ends) that sets each MAC's static
 * addresses, gateway and DNS servers on the adapter with that MAC, waiting
 * for it to appear. For IPv4 it first turns DHCP off and removes the
 * adapter's IPv4 addresses and default route (a DHCP or APIPA address the
 * new adapter got before the script ran); IPv6 link-local addresses are
 * kept. Each address is set with New-NetIPAddress, the DNS servers of all of
 * a MAC's entries with one Set-DnsClientServerAddress.
 */
export function networkScript(apply: ReadonlyArray<{ mac: string; staticIps: readonly StaticIp[] }>): string {
  const tries = ADAPTER_WAIT_SECONDS / 5;
  const lines = [
    '# Written by v2v when this guest was converted to run on KVM: sets the static',
    '# TCP/IP settings each source NIC had again on the new adapter with its MAC.',
    '# Run once by firstboot.bat after the drivers are installed; output in firstboot.log.',
    '',
    '# A new adapter appears once Plug and Play has installed its driver: wait for it.',
    'function Wait-V2vAdapter([string]$Mac) {',
    `  for ($try = 0; $try -lt ${tries}; $try++) {`,
    '    $adapter = Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object MacAddress -eq $Mac | Select-Object -First 1',
    '    if ($adapter) { return $adapter }',
    '    Start-Sleep -Seconds 5',
    '  }',
    `  Write-Output "v2v: no adapter with MAC $Mac appeared in ${ADAPTER_WAIT_SECONDS} s: its static settings were not set"`,
    '  return $null',
    '}',
  ];
  for (const { mac, staticIps } of apply) {
    const windowsMac = mac.toUpperCase().replace(/:/g, '-');
    const dns = [...new Set(staticIps.flatMap((ip) => ip.dns))];
    const summary = staticIps
      .map((ip) => `${ip.address}/${ip.prefix ?? defaultPrefix(ip.address)}${ip.gateway ? ` via ${ip.gateway}` : ''}`)
      .join(', ');
    lines.push(
      '',
      `# ${mac}: ${summary}${dns.length > 0 ? `; DNS ${dns.join(', ')}` : ''}`,
      `$adapter = Wait-V2vAdapter '${windowsMac}'`,
      'if ($adapter) {',
      '  $i = $adapter.ifIndex',
      `  Write-Output "v2v: setting the static TCP/IP settings of $($adapter.Name) (MAC ${windowsMac})"`,
    );
    if (staticIps.some((ip) => isIP(ip.address) === 4)) {
      lines.push(
        '  Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
        '  Remove-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -Confirm:$false -ErrorAction SilentlyContinue',
        "  Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -Confirm:$false -ErrorAction SilentlyContinue",
      );
    }
    for (const ip of staticIps) {
      const family = isIP(ip.address) === 6 ? 'IPv6' : 'IPv4';
      const gateway = ip.gateway ? ` -DefaultGateway '${ip.gateway}'` : '';
      lines.push(
        `  New-NetIPAddress -InterfaceIndex $i -AddressFamily ${family} -IPAddress '${ip.address}' -PrefixLength ${ip.prefix ?? defaultPrefix(ip.address)}${gateway}`,
      );
    }
    if (dns.length > 0)
      lines.push(`  Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses ${dns.map((d) => `'${d}'`).join(',')}`);
    lines.push('}');
  }
  return `${lines.join('\r\n')}\r\n`;
}
