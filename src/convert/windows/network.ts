/**
 * Windows guests' TCP/IP settings, read offline from the SYSTEM hive, and
 * which source NIC each adapter is. Pure functions over `hivexregedit
 * --export` text; convert.ts reads the hive and writes the first-boot script.
 *
 * Where Windows keeps them (current control set):
 *   Control\Class\{4d36e972-e325-11ce-bfc1-08002be10318}\NNNN   one per network
 *       adapter: NetCfgInstanceId (the adapter's {GUID}), DriverDesc,
 *       MatchingDeviceId / ComponentId (PCI ids: the model), and
 *       NetworkAddress when a MAC was set by hand in the adapter's properties
 *   Services\Tcpip\Parameters\Interfaces\{GUID}   EnableDHCP (DWORD),
 *       IPAddress, SubnetMask, DefaultGateway (REG_MULTI_SZ), NameServer
 *       (REG_SZ, comma or space separated)
 * A new virtio (or e1000) adapter is a new device with a new {GUID}: these
 * settings do not follow it, so the first-boot script sets them again on the
 * adapter with the same MAC. IPv6 static addresses are not read: Windows
 * keeps them in binary Nsi values keyed by interface LUID, not here (give
 * them with --mac MAC:ip:...).
 */
import type { NicNetworkReport, SourceNic, StaticIp } from '../../model.js';
import type { ExportedValues } from './registry.js';

/** The device class of network adapters. */
export const NET_CLASS_KEY = 'Control\\Class\\{4d36e972-e325-11ce-bfc1-08002be10318}';
/** Per-adapter IPv4 settings, by adapter {GUID}. */
export const TCPIP_INTERFACES_KEY = 'Services\\Tcpip\\Parameters\\Interfaces';

/** One network adapter of the guest, with its IPv4 settings. */
export interface WindowsAdapter {
  /** NetCfgInstanceId, as written in the registry (e.g. "{3F1B...}"). */
  guid: string;
  /** DriverDesc, e.g. "vmxnet3 Ethernet Adapter". */
  description: string;
  /** The VMware NIC model its PCI id says (vmxnet3, vmxnet, e1000, e1000e), when it is one. */
  model?: string;
  /** NetworkAddress (set by hand), lower case, colon separated. */
  mac?: string;
  dhcp: boolean;
  /** Static addresses (none when DHCP). */
  staticIps: StaticIp[];
  /** DNS servers set by hand on a DHCP adapter (NameServer): not re-applied, warned about. */
  dhcpManualDns?: string[];
}

/** PCI vendor/device ids of the NICs VMware emulates → the model name a VMX uses. */
const VMWARE_NIC_IDS: Record<string, string> = {
  'ven_15ad&dev_07b0': 'vmxnet3',
  'ven_15ad&dev_0720': 'vmxnet',
  'ven_8086&dev_100f': 'e1000',
  'ven_8086&dev_10d3': 'e1000e',
};

/** The VMware model of a PnP id such as `pci\ven_15ad&dev_07b0&subsys_07b015ad&rev_01`. */
export function vmwareNicModel(pnpId: string | undefined): string | undefined {
  const ids = /^pci\\(ven_[0-9a-f]{4}&dev_[0-9a-f]{4})/i.exec(pnpId ?? '')?.[1]?.toLowerCase();
  return ids === undefined ? undefined : VMWARE_NIC_IDS[ids];
}

/** `255.255.255.0` → 24; undefined for a mask that is not contiguous ones then zeros. */
export function maskToPrefix(mask: string): number | undefined {
  const parts = mask.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const bits = parts.map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

/** A MULTI_SZ (decoded with newlines) or space/comma separated REG_SZ as a list. */
function list(text: string | undefined): string[] {
  return (text ?? '').split(/[\n, ]+/).filter((s) => s !== '');
}

/** `005056AA0B01` or `00-50-56-AA-0B-01` → `00:50:56:aa:0b:01`; undefined when not a MAC. */
function registryMac(text: string | undefined): string | undefined {
  const hex = (text ?? '').replace(/[-:.\s]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex.match(/../g)!.join(':') : undefined;
}

/**
 * The guest's network adapters that have IPv4 settings, from the exports of
 * `ControlSetNNN\<NET_CLASS_KEY>` (depth 2) and `ControlSetNNN\<TCPIP_INTERFACES_KEY>`
 * (depth 2), parsed by parseRegExport with the hive prefix. Adapters with
 * neither DHCP nor an address (WAN miniports, ...) are left out, and so are
 * interface keys no adapter claims (left by removed devices). An address
 * whose mask is not a prefix, or `0.0.0.0`, is skipped.
 */
export function readWindowsAdapters(
  classKeys: Map<string, ExportedValues>,
  interfaceKeys: Map<string, ExportedValues>,
  controlSet: string,
): { adapters: WindowsAdapter[]; problems: string[] } {
  const problems: string[] = [];
  const interfaces = new Map<string, ExportedValues>();
  const interfacesPrefix = `${controlSet}\\${TCPIP_INTERFACES_KEY}\\`.toLowerCase();
  for (const [path, values] of interfaceKeys) {
    if (path.startsWith(interfacesPrefix) && !path.slice(interfacesPrefix.length).includes('\\'))
      interfaces.set(path.slice(interfacesPrefix.length), values);
  }
  const classPrefix = `${controlSet}\\${NET_CLASS_KEY}\\`.toLowerCase();
  const adapters: WindowsAdapter[] = [];
  for (const [path, values] of classKeys) {
    const sub = path.slice(classPrefix.length);
    if (!path.startsWith(classPrefix) || !/^\d{4}$/.test(sub)) continue;
    const guid = values.get('netcfginstanceid')?.text;
    const settings = guid === undefined ? undefined : interfaces.get(guid.toLowerCase());
    if (guid === undefined || settings === undefined) continue;
    const description = values.get('driverdesc')?.text ?? `adapter ${sub}`;
    const model = vmwareNicModel(values.get('matchingdeviceid')?.text ?? values.get('componentid')?.text);
    const mac = registryMac(values.get('networkaddress')?.text);
    const dhcp = settings.get('enabledhcp')?.dword === 1;
    const dns = list(settings.get('nameserver')?.text);
    const adapter: WindowsAdapter = { guid, description, ...(model ? { model } : {}), ...(mac ? { mac } : {}), dhcp, staticIps: [] };
    if (dhcp) {
      if (dns.length > 0) adapter.dhcpManualDns = dns;
    } else {
      const addresses = list(settings.get('ipaddress')?.text);
      const masks = list(settings.get('subnetmask')?.text);
      const gateways = list(settings.get('defaultgateway')?.text);
      addresses.forEach((address, i) => {
        if (address === '0.0.0.0') return;
        const prefix = maskToPrefix(masks[i] ?? '');
        if (prefix === undefined) {
          problems.push(
            `${description} ${guid}: address ${address} has the subnet mask "${masks[i] ?? ''}", which is not a prefix; it is not re-applied`,
          );
          return;
        }
        adapter.staticIps.push({ address, prefix, dns: [] });
      });
      const [first] = adapter.staticIps;
      if (first !== undefined) {
        if (gateways[0] !== undefined) first.gateway = gateways[0];
        first.dns = dns;
        if (gateways.length > 1)
          problems.push(`${description} ${guid}: only the first of its default gateways (${gateways.join(', ')}) is re-applied`);
      }
    }
    if (adapter.dhcp || adapter.staticIps.length > 0) adapters.push(adapter);
  }
  return { adapters, problems };
}

/** How an adapter was tied to a source NIC. */
export interface AdapterTie {
  adapter: WindowsAdapter;
  /** The source NIC, when tied. */
  nic?: SourceNic;
  matchedBy?: 'registry' | 'only-nic';
  /** Why it could not be tied. */
  note?: string;
}

/** `guid (description)` for messages and reports. */
export function adapterLabel(a: WindowsAdapter): string {
  return `${a.guid} (${a.description})`;
}

/**
 * Ties each adapter to a source NIC: by MAC when the registry has one
 * (NetworkAddress); else when it is the only adapter and the only source NIC
 * of its model; else when the guest has one adapter and the source one NIC.
 * Anything else is left untied with a note naming the candidates: never a guess.
 */
export function tieAdapters(adapters: readonly WindowsAdapter[], nics: readonly SourceNic[]): AdapterTie[] {
  const taken = new Set<SourceNic>();
  const ties = adapters.map((adapter): AdapterTie => {
    const nic = adapter.mac === undefined ? undefined : nics.find((n) => n.mac === adapter.mac);
    if (nic) taken.add(nic);
    return nic ? { adapter, nic, matchedBy: 'registry' } : { adapter };
  });
  for (const tie of ties) {
    if (tie.nic) continue;
    const { adapter } = tie;
    const nicName = (n: SourceNic): string => `${n.mac ?? 'no MAC'}${n.model ? ` ${n.model}` : ''}`;
    const free = nics.filter((n) => !taken.has(n));
    if (adapter.model !== undefined) {
      const sameModel = free.filter((n) => n.model === adapter.model);
      const rivals = ties.filter((t) => !t.nic && t.adapter.model === adapter.model);
      if (sameModel.length === 1 && rivals.length === 1) {
        tie.nic = sameModel[0]!;
        tie.matchedBy = 'only-nic';
        continue;
      }
      if (sameModel.length > 0) {
        tie.note = `${rivals.length} ${adapter.model} adapter(s) in the guest (${rivals.map((t) => adapterLabel(t.adapter)).join(', ')}) and ${sameModel.length} ${adapter.model} NIC(s) in the source (${sameModel.map(nicName).join(', ')}), and no MAC in the registry to tell which is which`;
        continue;
      }
    }
    if (adapters.length === 1 && nics.length === 1 && free.length === 1) {
      tie.nic = free[0]!;
      tie.matchedBy = 'only-nic';
      continue;
    }
    const model = adapter.model === undefined ? 'its model is not a VMware NIC' : `the source has no ${adapter.model} NIC`;
    tie.note = `the registry has no MAC for it, ${model}, and the guest has ${adapters.length} adapter(s) with settings for ${nics.length} source NIC(s) (${nics.map(nicName).join(', ') || 'none'})`;
  }
  return ties;
}

/** What to do about the guest's network: re-apply these, report those, warn about the rest. */
export interface WindowsNetworkPlan {
  /** Static settings to set on the adapter with each MAC, in source NIC order. */
  apply: Array<{ mac: string; staticIps: StaticIp[] }>;
  reports: NicNetworkReport[];
  warnings: string[];
}

/** The address in CIDR form for messages. */
export function cidr(ip: StaticIp): string {
  return ip.prefix === undefined ? ip.address : `${ip.address}/${ip.prefix}`;
}

/**
 * Decides what the first-boot script re-applies: for each tied adapter with
 * static settings, those settings on the NIC's MAC; `--mac MAC:ip:` entries
 * (`options`, by lower-case MAC) replace them for their NIC, tied or not.
 * `file` is the script the settings are written to (for the reports).
 */
export function planWindowsNetwork(
  adapters: readonly WindowsAdapter[],
  nics: readonly SourceNic[],
  options: ReadonlyMap<string, StaticIp[]>,
  file: string,
): WindowsNetworkPlan {
  const plan: WindowsNetworkPlan = { apply: [], reports: [], warnings: [] };
  const ties = tieAdapters(adapters, nics);
  const byMac = new Map<string, NicNetworkReport>();
  for (const { adapter, nic, matchedBy, note } of ties) {
    const names = [adapter.guid, adapter.description];
    const found = adapter.staticIps.map(cidr).join(', ');
    if (nic === undefined || matchedBy === undefined) {
      plan.reports.push({
        names,
        files: [],
        staticIps: adapter.staticIps,
        dhcp: adapter.dhcp,
        source: 'guest',
        note: `not tied to a source NIC: ${note}`,
      });
      if (!adapter.dhcp)
        plan.warnings.push(
          `Windows adapter ${adapterLabel(adapter)} has the static address ${found}, but ${note}: set it on the new adapter after the first boot, or convert again with --mac MAC:ip:${adapter.staticIps[0]?.address ?? 'ADDRESS'},...`,
        );
      continue;
    }
    const report: NicNetworkReport = {
      ...(nic.mac ? { mac: nic.mac } : {}),
      names,
      matchedBy,
      files: [],
      staticIps: adapter.staticIps,
      dhcp: adapter.dhcp,
      source: 'guest',
    };
    if (nic.mac === undefined) {
      report.note = 'the source NIC has no MAC: the new adapter cannot be found by MAC';
      if (!adapter.dhcp)
        plan.warnings.push(
          `Windows adapter ${adapterLabel(adapter)} has the static address ${found}, but its source NIC has no MAC, so the new adapter cannot be found at first boot: set the address after the first boot`,
        );
    } else {
      byMac.set(nic.mac, report);
    }
    if (adapter.dhcpManualDns) {
      report.note = `DHCP with DNS servers set by hand (${adapter.dhcpManualDns.join(', ')}): not re-applied`;
      plan.warnings.push(
        `Windows adapter ${adapterLabel(adapter)} uses DHCP with the DNS servers ${adapter.dhcpManualDns.join(', ')} set by hand: they are not re-applied; set them on the new adapter after the first boot`,
      );
    }
    plan.reports.push(report);
  }
  for (const [mac, staticIps] of options) {
    const nic = nics.find((n) => n.mac === mac);
    if (nic === undefined) {
      plan.warnings.push(
        `--mac ${mac}:ip:... names no NIC of the source (its MACs: ${
          nics
            .map((n) => n.mac)
            .filter(Boolean)
            .join(', ') || 'none'
        }): it is ignored`,
      );
      continue;
    }
    const report = byMac.get(mac);
    if (report) Object.assign(report, { staticIps, dhcp: false, source: 'option' });
    else {
      const created: NicNetworkReport = { mac, names: [], matchedBy: 'option', files: [], staticIps, dhcp: false, source: 'option' };
      byMac.set(mac, created);
      plan.reports.push(created);
    }
  }
  for (const nic of nics) {
    const report = nic.mac === undefined ? undefined : byMac.get(nic.mac);
    if (nic.mac === undefined || report === undefined || report.staticIps.length === 0) continue;
    report.files = [file];
    plan.apply.push({ mac: nic.mac, staticIps: report.staticIps });
  }
  return plan;
}
