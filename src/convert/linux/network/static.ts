/**
 * `--mac MAC:ip:ADDR[,GW[,LEN[,DNS...]]]` applied to a Linux guest: the NIC
 * with that MAC comes up with those addresses, configured in the network
 * system the guest itself uses (ifupdown, ifcfg, NetworkManager, netplan,
 * systemd-networkd), on the interface name its config uses and v2v pins.
 *
 * What the guest had for that interface is never lost: an ifupdown stanza or
 * an ifcfg file is kept commented out in the file, a netplan file is copied
 * to FILE.v2v-orig before the edit, a NetworkManager profile stays but no
 * longer autoconnects, a networkd .network file stays but is outranked. A
 * NIC the guest has no config for gets a new file, with a name pinned like
 * the guest's own. What cannot be applied is a warning naming the NIC.
 *
 * Which system gets the NIC when several could is owner.ts' table
 * (the one that really manages it: NetworkManager leaves ifupdown's devices
 * alone, netplan is the source of what it renders, inactive systems lose).
 * When cloud-init would render the network config again on a later boot,
 * its network config is turned off (cloud-init.ts). DNS servers
 * reach the resolver each system's way; where nothing would read them,
 * a plain /etc/resolv.conf is written, else a warning names the fix.
 *
 * planStaticIps decides (pure); static-guest.ts reads what it needs
 * from the guest and writes the plan. pin.ts runs them around the
 * pinning.
 */
import type { NicNetworkReport, SourceNic, StaticIp } from '../../../model.js';
import { globRegExp, type ConfiguredInterface, type ExistingPin, type IfupdownFile, type NetConfigKind } from './config.js';
import {
  cidrOf,
  dnsOf,
  ifcfgRhel,
  ifcfgSuse,
  ifrouteSuse,
  ifupdownBringsUp,
  newIfupdownConfig,
  netplanEdit,
  netplanNew,
  networkdNetwork,
  nmAutoconnectOff,
  nmKeyfile,
  nmWithoutAutoconnect,
  replaceIfupdownStanzas,
  resolvConfWith,
} from './static-formats.js';
import { CLOUD_INIT_V2V_CFG, cloudInitDisableNetwork, type CloudInitNetwork } from './cloud-init.js';
import { KIND_NAMES, ownerOfConfigured, ownerOfNew, type OwnerFacts } from './owner.js';
import { recordUnappliedStaticIps } from './static-report.js';
import type { PhysicalInterface } from './pin-plan.js';

/** What the static configuration needs to know about the guest besides its parsed config. */
export interface StaticGuest extends OwnerFacts {
  /** ifcfg flavour: RHEL (/etc/sysconfig/network-scripts) or SUSE (/etc/sysconfig/network). */
  ifcfgDir: typeof RHEL_IFCFG_DIR | typeof SUSE_IFCFG_DIR;
  /**
   * How ifupdown's DNS reaches the resolver: 'hook' (resolvconf, or
   * systemd-resolved's if-up hook, reads dns-nameservers), 'file'
   * (/etc/resolv.conf is a plain file or absent: v2v writes it), 'unmanaged'
   * (a link to something neither updates).
   */
  ifupdownDns: 'hook' | 'file' | 'unmanaged';
  /**
   * How networkd's DNS= reaches the resolver: 'resolved' (systemd-resolved
   * is enabled, or /etc/resolv.conf links to its files), 'file'
   * (/etc/resolv.conf is a plain file or absent: v2v writes it), 'unmanaged'
   * (a link to something else).
   */
  networkdDns: 'resolved' | 'file' | 'unmanaged';
  /** Text of a plain /etc/resolv.conf (ifupdownDns or networkdDns 'file'). */
  resolvConf?: string;
  /** Where /etc/resolv.conf links to, when it is a link (for the warnings). */
  resolvConfLink?: string;
  /** netplan's global renderer in the guest (undefined: networkd, its default). */
  netplanRenderer?: string;
  /** cloud-init and its network config (cloud-init.ts). */
  cloudInit: CloudInitNetwork;
  /** What /etc/network/interfaces sources. */
  ifupdownSources: IfupdownFile['sources'];
  /** Text of every config file an interface was read from, by guest path. */
  texts: ReadonlyMap<string, string>;
  existingPins: readonly ExistingPin[];
}

/** The decisions for every --mac ...:ip: entry. */
export interface StaticPlan {
  writes: Array<{ path: string; content: string; mode?: string }>;
  /** Interfaces the new files name (ifupdown, ifcfg): pinned like the guest's own. */
  added: ConfiguredInterface[];
  /** Per MAC applied: the files written (and the name it is configured under). */
  applied: Map<string, { files: string[]; name?: string; kind: NetConfigKind; ips: StaticIp[]; configured: boolean }>;
  /** Per MAC not applied: why (a warning is made of it). */
  refused: Map<string, { ips: StaticIp[]; why: string }>;
  warnings: string[];
  log: string[];
  /** The cloud-init setting written (absent: cloud-init absent, already off, or nothing applied). */
  cloudInitFile?: string;
}

export const RHEL_IFCFG_DIR = '/etc/sysconfig/network-scripts';
export const SUSE_IFCFG_DIR = '/etc/sysconfig/network';
const NM_DIR = '/etc/NetworkManager/system-connections';
const NETPLAN_DIR = '/etc/netplan';
const NETWORKD_DIR = '/etc/systemd/network';
export const IFUPDOWN_MAIN = '/etc/network/interfaces';
const IFUPDOWN_DIR = '/etc/network/interfaces.d';
export const RESOLV_CONF = '/etc/resolv.conf';

const hex = (mac: string): string => mac.replace(/:/g, '');

/** The network system a NIC with no config gets (owner.ts: the table). */
export function familyForNewConfig(entries: readonly ConfiguredInterface[], guest: StaticGuest): NetConfigKind | undefined {
  return ownerOfNew(new Set(entries.map((e) => e.kind)), guest);
}

/**
 * The name a NIC with no config is configured under (ifupdown and ifcfg need
 * one): the name a pin already gives its MAC, else its VMware name ensN,
 * else systemd's MAC-based name enxMAC. v2v pins it.
 */
export function nameForNewConfig(nic: SourceNic & { mac: string }, pins: readonly ExistingPin[]): string {
  return pins.find((p) => p.mac === nic.mac)?.name ?? (nic.pciSlot !== undefined ? `ens${nic.pciSlot}` : `enx${hex(nic.mac)}`);
}

/** The config entries of one physical interface (its own, not those of bonds or VLANs on it). */
function entriesOf(phys: PhysicalInterface, entries: readonly ConfiguredInterface[]): ConfiguredInterface[] {
  return entries.filter(
    (e) => !e.virtual && phys.files.includes(e.file) && (phys.name !== undefined ? e.name === phys.name : e.mac === phys.mac),
  );
}

/** Whether ifupdown reads `path` through one of /etc/network/interfaces' source lines. */
function ifupdownReads(path: string, sources: IfupdownFile['sources']): boolean {
  const slash = path.lastIndexOf('/');
  const [dir, base] = [path.slice(0, slash), path.slice(slash + 1)];
  return sources.some((s) => {
    const full = s.path.startsWith('/') ? s.path : `/etc/network/${s.path}`;
    if (s.kind === 'source-directory') return full.replace(/\/$/, '') === dir && /^[A-Za-z0-9_-]+$/.test(base);
    const at = full.lastIndexOf('/');
    return full.slice(0, at) === dir && globRegExp(full.slice(at + 1)).test(base);
  });
}

/** One request being planned: the NIC, its addresses, and where the results go. */
interface Request {
  mac: string;
  ips: StaticIp[];
  nic: SourceNic & { mac: string };
  plan: StaticPlan;
  guest: StaticGuest;
  /** The guest's config names this NIC (false: v2v adds its config). */
  configured: boolean;
}

/**
 * Decides, for every --mac ...:ip: entry, what to write where. `tied`: the
 * guest's interfaces each source NIC (by index) was tied to
 * (pin.ts tieInterfaces). Pure.
 */
export function planStaticIps(
  requests: ReadonlyMap<string, StaticIp[]>,
  nics: readonly SourceNic[],
  entries: readonly ConfiguredInterface[],
  tied: ReadonlyMap<number, PhysicalInterface[]>,
  guest: StaticGuest,
): StaticPlan {
  const plan: StaticPlan = { writes: [], added: [], applied: new Map(), refused: new Map(), warnings: [], log: [] };
  for (const [mac, ips] of requests) {
    const index = nics.findIndex((n) => n.mac === mac);
    const nic = nics[index];
    if (nic === undefined) {
      const macs = nics.flatMap((n) => (n.mac !== undefined ? [n.mac] : []));
      plan.refused.set(mac, {
        ips,
        why: `the VM has no NIC with that MAC (${macs.length > 0 ? `its NICs: ${macs.join(', ')}` : 'none of its NICs has a fixed MAC'})`,
      });
      continue;
    }
    const physs = tied.get(index) ?? [];
    const request: Request = { mac, ips, nic: { ...nic, mac }, plan, guest, configured: physs.length > 0 };
    const why = physs.length > 0 ? applyToConfigured(request, physs, entries) : applyToNew(request, entries);
    if (why !== undefined) plan.refused.set(mac, { ips, why });
  }
  keepFromCloudInit(plan, guest);
  return plan;
}

/**
 * cloud-init with its network config on would render the NIC's config again
 * from its datasource on a later boot: once anything was applied, its
 * network config is turned off (cloud-init.ts).
 */
function keepFromCloudInit(plan: StaticPlan, guest: StaticGuest): void {
  if (plan.applied.size === 0 || guest.cloudInit !== 'enabled') return;
  const applied = [...plan.applied].map(([mac, { ips }]) => ({ mac, ips }));
  plan.writes.push({ path: CLOUD_INIT_V2V_CFG, content: cloudInitDisableNetwork(applied) });
  plan.cloudInitFile = CLOUD_INIT_V2V_CFG;
  plan.log.push(
    `disabled cloud-init's network config so it keeps the --mac addresses (it would render the network config again from its datasource on a later boot): ${CLOUD_INIT_V2V_CFG}`,
  );
}

/** The NIC has config in the guest: replace it there. Returns why not, when it cannot. */
function applyToConfigured(request: Request, physs: PhysicalInterface[], entries: readonly ConfiguredInterface[]): string | undefined {
  const uppers = [...new Set(physs.flatMap((p) => p.uppers))];
  if (uppers.length > 0) return `in the guest's config it is a member of ${uppers.join(', ')}; set the address on that device in the guest`;
  const own = physs.flatMap((p) => entriesOf(p, entries));
  const owner = ownerOfConfigured(new Set(own.map((e) => e.kind)), request.guest);
  // The names of the system that manages it (the pinning decides the same way: pin.ts).
  const named = owner === undefined ? own : own.filter((e) => e.kind === owner.kind);
  const names = [...new Set(named.map((e) => e.name).filter((n): n is string => n !== undefined))];
  if (names.length > 1) return `the guest's config gives it several names (${names.join(', ')}); keep one in the guest's config`;
  // Only inactive systems name it: new config, under the name they use (which is pinned).
  if (owner === undefined) return applyToNew({ ...request, configured: false }, entries, names[0]);
  const { kind, why } = owner;
  const files = [...new Set(own.filter((e) => e.kind === kind).map((e) => e.file))].sort();
  const name = names[0];
  if (why !== undefined) {
    const unused = [...new Set(own.filter((e) => e.kind !== kind).map((e) => e.file))].sort();
    request.plan.log.push(
      `${request.mac}${name !== undefined ? ` (${name})` : ''} is configured by ${KIND_NAMES[kind]} (${why}): ${unused.join(', ')} left as ${unused.length === 1 ? 'it is' : 'they are'}`,
    );
  }
  switch (kind) {
    case 'ifupdown':
      return name === undefined ? 'ifupdown names no interface for it' : ifupdownReplace(request, name, files);
    case 'ifcfg':
      return name === undefined ? 'its ifcfg file names no device' : ifcfgWrite(request, name, files[0] as string);
    case 'networkmanager':
      return nmWrite(request, files);
    case 'netplan':
      return netplanWrite(request, name, files);
    case 'networkd':
      return networkdWrite(request, files);
  }
}

/** The NIC has no config in the guest: a new file in the guest's network system. */
function applyToNew(request: Request, entries: readonly ConfiguredInterface[], knownName?: string): string | undefined {
  const kind = familyForNewConfig(entries, request.guest);
  if (kind === undefined) {
    return 'no network system was found in the guest (no ifupdown, ifcfg, NetworkManager, netplan or systemd-networkd); configure the address in the guest';
  }
  const name = knownName ?? nameForNewConfig(request.nic, request.guest.existingPins);
  switch (kind) {
    case 'ifupdown':
      return ifupdownNew(request, name);
    case 'ifcfg': {
      const dir = request.guest.ifcfgDir;
      return ifcfgWrite(request, name, `${dir}/ifcfg-${name}`);
    }
    case 'networkmanager':
      return nmWrite(request, []);
    case 'netplan':
      return netplanWrite(request, undefined, []);
    case 'networkd':
      return networkdWrite(request, []);
  }
}

/** Records what was written for a request. */
function applied(request: Request, kind: NetConfigKind, files: string[], name?: string): undefined {
  const { plan, mac, ips, configured } = request;
  plan.applied.set(mac, { files, kind, ips, configured, ...(name !== undefined ? { name } : {}) });
  plan.log.push(
    `static ${ips.map(cidrOf).join(', ')} from --mac for ${mac}${name !== undefined ? ` (${name})` : ''}: ${kind} ${files.join(', ')}`,
  );
  return undefined;
}

/** A file v2v adds that names an interface: the pinning sees it like the guest's own. */
function addInterface(request: Request, file: string, kind: NetConfigKind, name: string): void {
  request.plan.added.push({ file, kind, name, mac: request.mac, virtual: false, lowers: [], staticIps: request.ips });
}

// ------------------------------------------------------------- ifupdown ----

/** DNS with ifupdown: dns-nameservers always; /etc/resolv.conf too when nothing reads them. Returns the extra files written. */
function ifupdownDns(request: Request): string[] {
  const mode = request.guest.ifupdownDns;
  return dnsFallback(
    request,
    mode === 'hook' ? 'read' : mode,
    (dns) =>
      `the DNS servers ${dns} are in the ifupdown stanza (dns-nameservers), but neither resolvconf nor systemd-resolved reads them and ${RESOLV_CONF} is a link: set them in the guest's resolver`,
  );
}

/**
 * DNS servers the network system's own setting may not deliver: nothing more
 * when the guest reads that setting (`read`), a plain /etc/resolv.conf gets
 * them (`file`), else a warning: `--mac MAC: ` and `why(servers)`. Returns
 * the extra files written.
 */
function dnsFallback(request: Request, mode: 'read' | 'file' | 'unmanaged', why: (dns: string) => string): string[] {
  const { guest, plan, ips, nic } = request;
  const dns = dnsOf(ips);
  if (dns.length === 0 || mode === 'read') return [];
  if (mode === 'file') {
    plan.writes.push({ path: RESOLV_CONF, content: resolvConfWith(guest.resolvConf, dns) });
    return [RESOLV_CONF];
  }
  plan.warnings.push(`--mac ${nic.mac}: ${why(dns.join(', '))}`);
  return [];
}

function ifupdownReplace(request: Request, name: string, files: string[]): string | undefined {
  const { guest, plan, mac, ips } = request;
  const written: string[] = [];
  for (const file of files) {
    const text = guest.texts.get(file);
    const edited = text === undefined ? undefined : replaceIfupdownStanzas(text, name, mac, ips, true);
    if (edited === undefined) continue;
    plan.writes.push({ path: file, content: edited });
    written.push(file);
  }
  if (written.length === 0) return ifupdownNew(request, name);
  return applied(request, 'ifupdown', [...written, ...ifupdownDns(request)], name);
}

function ifupdownNew(request: Request, name: string): string | undefined {
  const { guest, plan, mac, ips } = request;
  const ownFile = `${IFUPDOWN_DIR}/v2v-${name}`;
  const bringUp = ![...guest.texts].some(([path, text]) => path.startsWith('/etc/network/') && ifupdownBringsUp(text, name));
  const stanza = newIfupdownConfig(name, mac, ips, true, bringUp);
  let file = ownFile;
  if (ifupdownReads(ownFile, guest.ifupdownSources) && /^[A-Za-z0-9_-]+$/.test(`v2v-${name}`)) {
    plan.writes.push({ path: ownFile, content: stanza });
  } else {
    const main = guest.texts.get(IFUPDOWN_MAIN) ?? '';
    file = IFUPDOWN_MAIN;
    plan.writes.push({ path: IFUPDOWN_MAIN, content: `${main}${main === '' || main.endsWith('\n') ? '' : '\n'}\n${stanza}` });
  }
  addInterface(request, file, 'ifupdown', name);
  return applied(request, 'ifupdown', [file, ...ifupdownDns(request)], name);
}

// ---------------------------------------------------------------- ifcfg ----

function ifcfgWrite(request: Request, name: string, file: string): string | undefined {
  const { guest, plan, mac, ips } = request;
  const before = guest.texts.get(file);
  const suse = file.startsWith(`${SUSE_IFCFG_DIR}/`);
  plan.writes.push({ path: file, content: suse ? ifcfgSuse(name, mac, ips, before) : ifcfgRhel(name, mac, ips, before) });
  const files = [file];
  if (suse) {
    const routeFile = `${SUSE_IFCFG_DIR}/ifroute-${name}`;
    const routes = ifrouteSuse(name, ips);
    if (routes !== undefined) {
      const old = guest.texts.get(routeFile);
      plan.writes.push({
        path: routeFile,
        content:
          old === undefined
            ? routes
            : `${routes}# v2v: the file as it was:\n${old
                .split('\n')
                .map((l) => `# ${l}`)
                .join('\n')}\n`,
      });
      files.push(routeFile);
    }
    const dns = dnsOf(ips);
    if (dns.length > 0) {
      plan.warnings.push(
        `--mac ${mac}: SUSE keeps DNS servers in netconfig, not ifcfg: set NETCONFIG_DNS_STATIC_SERVERS="${dns.join(' ')}" in /etc/sysconfig/network/config in the guest`,
      );
    }
  }
  if (before === undefined) addInterface(request, file, 'ifcfg', name);
  return applied(request, 'ifcfg', files, name);
}

// ------------------------------------------------------- NetworkManager ----

function nmWrite(request: Request, oldProfiles: string[]): string | undefined {
  const { guest, plan, mac, ips } = request;
  const file = `${NM_DIR}/v2v-${hex(mac)}.nmconnection`;
  // NetworkManager ignores keyfiles that others can read.
  plan.writes.push({ path: file, content: nmKeyfile(mac, ips), mode: '0600' });
  const files = [file];
  for (const old of oldProfiles) {
    const text = guest.texts.get(old);
    if (text === undefined || old === file || nmAutoconnectOff(text)) continue;
    plan.writes.push({ path: old, content: nmWithoutAutoconnect(text), mode: '0600' });
    files.push(old);
  }
  return applied(request, 'networkmanager', files);
}

// --------------------------------------------------------------- netplan ----

function netplanWrite(request: Request, name: string | undefined, files: string[]): string | undefined {
  const { guest, plan, mac, ips } = request;
  const written: string[] = [];
  // The device's settings go into the last file that defines it; earlier ones lose theirs.
  const last = files.at(-1);
  for (const file of files) {
    const text = guest.texts.get(file);
    const edited = text === undefined ? undefined : netplanEdit(text, name, mac, ips, file === last);
    if (edited === undefined || text === undefined) continue;
    plan.writes.push({ path: `${file}.v2v-orig`, content: text, mode: '0600' }, { path: file, content: edited, mode: '0600' });
    written.push(file, `${file}.v2v-orig`);
  }
  if (written.length > 0) return applied(request, 'netplan', written, name);
  const file = `${NETPLAN_DIR}/90-v2v-${hex(mac)}.yaml`;
  plan.writes.push({ path: file, content: netplanNew(mac, ips, guest.netplanRenderer), mode: '0600' });
  return applied(request, 'netplan', [file]);
}

// ------------------------------------------------------ systemd-networkd ----

function networkdWrite(request: Request, oldFiles: string[]): string | undefined {
  const { plan, mac, ips } = request;
  const file = `${NETWORKD_DIR}/00-v2v-${hex(mac)}.network`;
  plan.writes.push({ path: file, content: networkdNetwork(mac, ips) });
  const files = [file, ...networkdDns(request, file)];
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const earlier = oldFiles.filter((f) => base(f) < base(file));
  if (earlier.length > 0) {
    plan.warnings.push(
      `--mac ${mac}: ${earlier.join(', ')} sort${earlier.length === 1 ? 's' : ''} before ${file} and systemd-networkd uses the first match: rename ${earlier.length === 1 ? 'it' : 'them'} in the guest`,
    );
  }
  return applied(request, 'networkd', files);
}

/**
 * DNS with networkd: DNS= is read by systemd-resolved only. Without it,
 * /etc/resolv.conf is written when it is a plain file (as for ifupdown),
 * else a warning names the fix. Returns the extra files written.
 */
function networkdDns(request: Request, file: string): string[] {
  const { guest } = request;
  return dnsFallback(
    request,
    guest.networkdDns === 'resolved' ? 'read' : guest.networkdDns,
    (dns) =>
      `the DNS servers ${dns} are in ${file} (DNS=), which only systemd-resolved reads, and it is not enabled in the guest; ${RESOLV_CONF} is a link to ${guest.resolvConfLink ?? 'another file'}: enable systemd-resolved in the guest or set them in its resolver`,
  );
}

// ------------------------------------------------------------- reports ----

/**
 * The NIC reports with the static settings: an applied NIC's report says
 * the addresses came from --mac and lists the files; a refused one gets a
 * note and a warning (static-report.ts).
 */
export function reportStaticIps(
  reports: readonly NicNetworkReport[],
  plan: StaticPlan,
): { reports: NicNetworkReport[]; warnings: string[] } {
  let out = reports.map((r) => ({ ...r, files: [...r.files] }));
  const warnings: string[] = [];
  for (const [mac, { files, name, ips, configured }] of plan.applied) {
    let report = out.find((r) => r.mac === mac);
    if (report === undefined) {
      report = { mac, names: name !== undefined ? [name] : [], matchedBy: 'option', files: [], staticIps: [], source: 'option' };
      out.push(report);
    }
    if (!configured) report.matchedBy = 'option';
    report.staticIps = ips;
    report.source = 'option';
    delete report.dhcp;
    const all = [...files, ...(plan.cloudInitFile !== undefined ? [plan.cloudInitFile] : [])];
    report.files.push(...all.filter((f) => !report.files.includes(f)));
  }
  for (const [mac, { ips, why }] of plan.refused) {
    const recorded = recordUnappliedStaticIps(out, new Map([[mac, ips]]), why);
    out = recorded.reports;
    if (recorded.warning !== undefined) warnings.push(recorded.warning);
  }
  return { reports: out, warnings };
}
