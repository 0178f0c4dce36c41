/**
 * Parsers for a Linux guest's network configuration: which interface names
 * (and MACs) each file binds to, which of them are virtual (bond, VLAN,
 * bridge) on top of which physical ones, and the addresses configured.
 * Pure functions over file text; pin.ts reads the guest and acts.
 *
 * Formats: ifupdown interfaces(5), RHEL/SUSE ifcfg, NetworkManager keyfiles,
 * netplan YAML, systemd-networkd .network/.netdev, and the existing pins
 * (systemd .link files, udev persistent-net rules).
 */
import { parse as parseYaml } from 'yaml';
import type { StaticIp } from '../../../model.js';

/** Which configuration system a file belongs to. */
export type NetConfigKind = 'ifupdown' | 'ifcfg' | 'networkmanager' | 'netplan' | 'networkd';

/** One interface a network config file refers to. */
export interface ConfiguredInterface {
  /** Guest path of the file. */
  file: string;
  kind: NetConfigKind;
  /** Interface name the config binds to; absent when it matches by MAC only (any name works). */
  name?: string;
  /** MAC the config requires for this interface (lower case, colon separated). */
  mac?: string;
  /** A bond, VLAN, bridge or team: built on `lowers`, never pinned itself. */
  virtual: boolean;
  /** Interfaces this one is built on (bond members, VLAN parent, bridge ports); `mac:MAC` for a member bound by MAC only. */
  lowers: string[];
  /** The config renames the device to `name` by MAC itself (netplan set-name): nothing to pin. */
  setsName?: boolean;
  dhcp?: boolean;
  staticIps: StaticIp[];
}

/** An interface name pinned to a MAC by an existing .link file or udev rule. */
export interface ExistingPin {
  file: string;
  mac: string;
  name: string;
}

/** Loopback and wildcard names never name a NIC. */
export function isConcreteName(name: string): boolean {
  return name !== '' && name !== 'lo' && !/[*?[\]!]/.test(name);
}

/** Normalises a MAC ("00:0C:29:..", "00-0c-29-..", NetworkManager's "0;12;41;..") to lower-case colon form; undefined if it is not one. */
export function normalizeMac(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().replace(/^["']|["']$/g, '');
  if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(value)) return value.toLowerCase().replace(/-/g, ':');
  const bytes = value.replace(/;$/, '').split(';');
  if (bytes.length === 6 && bytes.every((b) => /^\d{1,3}$/.test(b) && Number(b) < 256)) {
    return bytes.map((b) => Number(b).toString(16).padStart(2, '0')).join(':');
  }
  return undefined;
}

/** 255.255.255.0 → 24; undefined for a non-contiguous or malformed mask. */
export function netmaskToPrefix(mask: string): number | undefined {
  const parts = mask.trim().split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  const bits = parts.map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

/** "192.0.2.10/24" (or a bare address) → StaticIp without gateway. */
function addressWithPrefix(text: string, dns: string[] = []): StaticIp | undefined {
  const [address, len] = text.trim().split('/');
  if (!address) return undefined;
  return { address, ...(len !== undefined && /^\d+$/.test(len) ? { prefix: Number(len) } : {}), dns };
}

/** Glob (`*`, `?`) → RegExp for one path component. */
export function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** Splits a value list on whitespace, commas or semicolons. */
function words(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,;]+/).filter((w) => w !== '');
}

/** The VLAN parent of a "parent.id" name (ens192.100 → ens192). */
function dottedVlanParent(name: string): string | undefined {
  const match = /^(.+)\.\d+$/.exec(name);
  return match?.[1];
}

// ------------------------------------------------------------- ifupdown ----

/** What /etc/network/interfaces (or a file it sources) holds. */
export interface IfupdownFile {
  interfaces: ConfiguredInterface[];
  /** `source` patterns and `source-directory` directories, as written (relative to /etc/network when not absolute). */
  sources: Array<{ kind: 'source' | 'source-directory'; path: string }>;
}

const IFUPDOWN_STANZA = /^(iface|mapping|auto|allow-[\w-]+|source|source-directory|no-auto-down|no-scripts|rename)$/;

/** Parses an interfaces(5) file: stanzas, their options, and what it sources. */
export function parseIfupdown(text: string, file: string): IfupdownFile {
  // Continuation lines end in a backslash; comments are whole lines starting with #.
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const byName = new Map<string, { options: Array<[string, string]>; methods: string[] }>();
  const sources: IfupdownFile['sources'] = [];
  const mentioned: string[] = [];
  let current: { options: Array<[string, string]>; methods: string[] } | undefined;
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    if (IFUPDOWN_STANZA.test(keyword)) {
      current = undefined;
      if (keyword === 'iface' && rest[0]) {
        const name = rest[0];
        const stanza = byName.get(name) ?? { options: [], methods: [] };
        if (rest[2]) stanza.methods.push(`${rest[1] ?? ''} ${rest[2]}`);
        byName.set(name, stanza);
        current = stanza;
      } else if (keyword === 'source' || keyword === 'source-directory') {
        if (rest[0]) sources.push({ kind: keyword, path: rest.join(' ') });
      } else if (keyword === 'auto' || keyword.startsWith('allow-')) {
        mentioned.push(...rest);
      }
      continue;
    }
    current?.options.push([keyword.replace(/_/g, '-'), rest.join(' ')]);
  }
  for (const name of mentioned) if (!byName.has(name)) byName.set(name, { options: [], methods: [] });

  const interfaces: ConfiguredInterface[] = [];
  for (const [name, { options, methods }] of byName) {
    if (!isConcreteName(name)) continue;
    const get = (key: string): string[] => options.filter(([k]) => k === key).map(([, v]) => v);
    const lowers = [
      ...get('bond-slaves').flatMap(words),
      ...get('slaves').flatMap(words),
      ...get('bridge-ports').flatMap(words),
      ...get('vlan-raw-device').flatMap(words),
    ].filter((w) => w !== 'none' && w !== 'all' && isConcreteName(w));
    const vlanParent = dottedVlanParent(name);
    if (vlanParent !== undefined && !lowers.includes(vlanParent)) lowers.push(vlanParent);
    const isVirtual =
      lowers.length > 0 ||
      options.some(([k]) => /^(bond|bridge)-/.test(k) && k !== 'bond-master' && k !== 'bond-primary') ||
      get('vlan-raw-device').length > 0;
    const dns = get('dns-nameservers').flatMap(words);
    const staticIps: StaticIp[] = [];
    const gateway = get('gateway')[0];
    const netmask = get('netmask')[0];
    for (const value of get('address')) {
      const ip = addressWithPrefix(value, dns);
      if (!ip) continue;
      if (ip.prefix === undefined && netmask !== undefined) {
        const prefix = netmaskToPrefix(netmask);
        if (prefix !== undefined) ip.prefix = prefix;
      }
      if (gateway !== undefined && staticIps.length === 0) ip.gateway = gateway;
      staticIps.push(ip);
    }
    const dhcp = methods.some((m) => / dhcp$/.test(m));
    interfaces.push({ file, kind: 'ifupdown', name, virtual: isVirtual, lowers, ...(dhcp ? { dhcp } : {}), staticIps });
  }
  return { interfaces, sources };
}

// ---------------------------------------------------------------- ifcfg ----

/** Parses a shell-style KEY=value file (ifcfg), quotes removed. */
export function parseShellVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!match?.[1]) continue;
    let value = (match[2] ?? '').trim();
    if (/^".*"$/.test(value) || /^'.*'$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    vars.set(match[1], value);
  }
  return vars;
}

/**
 * Parses an ifcfg file (RHEL /etc/sysconfig/network-scripts, SUSE
 * /etc/sysconfig/network). The name is DEVICE, else the file's suffix; the
 * MAC is HWADDR (RHEL) or LLADDR (SUSE); MACADDR sets a MAC, it does not match one.
 */
export function parseIfcfg(text: string, file: string): ConfiguredInterface | undefined {
  const vars = parseShellVars(text);
  const name = vars.get('DEVICE') || /ifcfg-([^/]+)$/.exec(file)?.[1];
  if (name === undefined || !isConcreteName(name)) return undefined;
  const type = (vars.get('TYPE') ?? vars.get('DEVICETYPE') ?? '').toLowerCase();
  const lowers: string[] = [];
  const isVlan = type === 'vlan' || vars.get('VLAN')?.toLowerCase() === 'yes' || vars.get('ETHERDEVICE') !== undefined;
  if (isVlan) {
    const parent = vars.get('PHYSDEV') ?? vars.get('ETHERDEVICE') ?? dottedVlanParent(name);
    if (parent) lowers.push(parent);
  }
  // SUSE bonds and bridges list their members on the virtual device.
  for (const [key, value] of vars) {
    if (/^BONDING_SLAVE_?\d*$/.test(key) || key === 'BRIDGE_PORTS') lowers.push(...words(value).filter(isConcreteName));
  }
  const isVirtual =
    isVlan ||
    ['bond', 'bridge', 'team', 'vlan'].includes(type) ||
    vars.has('BONDING_OPTS') ||
    vars.get('BONDING_MASTER')?.toLowerCase() === 'yes' ||
    vars.get('BRIDGE')?.toLowerCase() === 'yes' ||
    lowers.length > 0;
  const mac = normalizeMac(vars.get('HWADDR') ?? vars.get('LLADDR'));
  const dns = [...vars.entries()]
    .filter(([k]) => /^DNS\d+$/.test(k))
    .sort(([a], [b]) => Number(a.slice(3)) - Number(b.slice(3)))
    .map(([, v]) => v);
  const staticIps: StaticIp[] = [];
  for (const [key, value] of [...vars.entries()].filter(([k]) => /^IPADDR(_?\d+)?$/.test(k))) {
    const suffix = key.slice('IPADDR'.length);
    const ip = addressWithPrefix(value, dns);
    if (!ip) continue;
    const prefix = vars.get(`PREFIX${suffix}`) ?? vars.get(`PREFIXLEN${suffix}`);
    const netmask = vars.get(`NETMASK${suffix}`);
    if (ip.prefix === undefined && prefix !== undefined && /^\d+$/.test(prefix)) ip.prefix = Number(prefix);
    else if (ip.prefix === undefined && netmask !== undefined) {
      const fromMask = netmaskToPrefix(netmask);
      if (fromMask !== undefined) ip.prefix = fromMask;
    }
    const gateway = vars.get(`GATEWAY${suffix}`) ?? (staticIps.length === 0 ? vars.get('GATEWAY') : undefined);
    if (gateway) ip.gateway = gateway;
    staticIps.push(ip);
  }
  const dhcp = /^dhcp/i.test(vars.get('BOOTPROTO') ?? '');
  return { file, kind: 'ifcfg', name, ...(mac ? { mac } : {}), virtual: isVirtual, lowers, ...(dhcp ? { dhcp } : {}), staticIps };
}

// ------------------------------------------------------ ini-style files ----

/** Sections of an ini-style file (NetworkManager keyfile, systemd unit): section → key → values, in order. */
export function parseIni(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      current = sections.get(header[1]) ?? new Map<string, string[]>();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1 || current === undefined) continue;
    const key = line.slice(0, eq).trim();
    const values = current.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    current.set(key, values);
  }
  return sections;
}

/** Parses a NetworkManager keyfile (`/etc/NetworkManager/system-connections/*.nmconnection`). */
export function parseNmKeyfile(text: string, file: string): ConfiguredInterface | undefined {
  const ini = parseIni(text);
  const one = (section: string, key: string): string | undefined => ini.get(section)?.get(key)?.at(-1);
  const type = (one('connection', 'type') ?? '').toLowerCase();
  const name = one('connection', 'interface-name');
  const mac = normalizeMac(one('ethernet', 'mac-address') ?? one('802-3-ethernet', 'mac-address'));
  if (name === undefined && mac === undefined) return undefined; // binds to no particular device
  if (name !== undefined && !isConcreteName(name)) return undefined;
  const isVirtual = ['bond', 'bridge', 'vlan', 'team', 'macvlan', 'vxlan'].includes(type);
  const lowers: string[] = [];
  const parent = one('vlan', 'parent');
  // parent may be a connection UUID: only an interface-like name is useful here.
  if (parent !== undefined && /^[A-Za-z][\w.-]{0,14}$/.test(parent) && !/^[0-9a-f-]{36}$/.test(parent)) lowers.push(parent);
  else if (type === 'vlan' && name !== undefined) {
    const dotted = dottedVlanParent(name);
    if (dotted) lowers.push(dotted);
  }
  const ipv4 = ini.get('ipv4');
  const dns = words(one('ipv4', 'dns'));
  const staticIps: StaticIp[] = [];
  for (const [key, values] of ipv4 ?? []) {
    if (!/^address(es)?\d*$/.test(key)) continue;
    for (const value of values) {
      const [cidr = '', gateway] = value.split(',');
      const ip = addressWithPrefix(cidr, dns);
      if (!ip) continue;
      const gw = gateway?.trim() || (staticIps.length === 0 ? one('ipv4', 'gateway') : undefined);
      if (gw) ip.gateway = gw;
      staticIps.push(ip);
    }
  }
  const dhcp = (one('ipv4', 'method') ?? 'auto') === 'auto' && staticIps.length === 0 && !isVirtual;
  return {
    file,
    kind: 'networkmanager',
    ...(name !== undefined ? { name } : {}),
    ...(mac ? { mac } : {}),
    virtual: isVirtual,
    lowers,
    ...(dhcp ? { dhcp } : {}),
    staticIps,
  };
}

/** Parses a systemd-networkd `.network` file: [Match] Name=/MACAddress=, and the virtual devices it attaches (Bond=, Bridge=, VLAN=). */
export function parseNetworkdNetwork(text: string, file: string): ConfiguredInterface[] {
  const ini = parseIni(text);
  const all = (section: string, key: string): string[] => (ini.get(section)?.get(key) ?? []).flatMap((v) => words(v));
  const names = all('Match', 'Name');
  const macs = all('Match', 'MACAddress')
    .map(normalizeMac)
    .filter((m): m is string => m !== undefined);
  const dns = all('Network', 'DNS');
  const gateway = all('Network', 'Gateway')[0];
  const staticIps = [...all('Network', 'Address'), ...all('Address', 'Address')]
    .map((a) => addressWithPrefix(a, dns))
    .filter((ip): ip is StaticIp => ip !== undefined);
  if (staticIps[0] && gateway) staticIps[0].gateway = gateway;
  const dhcp = /^(yes|true|ipv4|both|1)$/i.test(all('Network', 'DHCP')[0] ?? '');
  const common = { file, kind: 'networkd' as const, ...(dhcp ? { dhcp } : {}), staticIps };
  const result: ConfiguredInterface[] = [];
  // A negated or wildcard Name= matches no particular device.
  const concrete = names.filter(isConcreteName);
  if (concrete.length > 0) {
    for (const name of concrete)
      result.push({ ...common, name, ...(macs.length === 1 ? { mac: macs[0] } : {}), virtual: false, lowers: [] });
  } else if (names.length === 0) {
    for (const mac of macs) result.push({ ...common, mac, virtual: false, lowers: [] });
  }
  // The devices stacked on this one: virtual, built on the names matched here.
  for (const key of ['Bond', 'Bridge', 'VLAN', 'MACVLAN', 'VRF']) {
    for (const upper of all('Network', key).filter(isConcreteName)) {
      result.push({ file, kind: 'networkd', name: upper, virtual: true, lowers: concrete, staticIps: [] });
    }
  }
  return result;
}

/** Parses a systemd-networkd `.netdev` file: the virtual device it creates. */
export function parseNetworkdNetdev(text: string, file: string): ConfiguredInterface | undefined {
  const name = parseIni(text).get('NetDev')?.get('Name')?.at(-1);
  if (name === undefined || !isConcreteName(name)) return undefined;
  return { file, kind: 'networkd', name, virtual: true, lowers: [], staticIps: [] };
}

// --------------------------------------------------------------- netplan ----

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Addresses, gateway and DNS of one netplan device. */
function netplanAddresses(device: YamlMap): StaticIp[] {
  const nameservers = isMap(device['nameservers']) ? stringList(device['nameservers']['addresses']) : [];
  const addresses = Array.isArray(device['addresses'])
    ? device['addresses']
        .map((a) => (typeof a === 'string' ? a : isMap(a) ? Object.keys(a)[0] : undefined))
        .filter((a): a is string => a !== undefined)
    : [];
  const routes = Array.isArray(device['routes']) ? device['routes'].filter(isMap) : [];
  const defaultRoute = routes.find((r) => r['to'] === 'default' || r['to'] === '0.0.0.0/0');
  const gateway =
    typeof device['gateway4'] === 'string'
      ? device['gateway4']
      : typeof defaultRoute?.['via'] === 'string'
        ? defaultRoute['via']
        : undefined;
  const ips = addresses.map((a) => addressWithPrefix(a, nameservers)).filter((ip): ip is StaticIp => ip !== undefined);
  if (ips[0] && gateway) ips[0].gateway = gateway;
  return ips;
}

/**
 * Parses a netplan YAML file. An ethernet's name is its `set-name` (netplan
 * then renames it by MAC itself), else `match: name`, else its id when it has
 * no `match`; bonds, bridges and VLANs refer to ethernets by id.
 * Throws on invalid YAML (the caller reports it).
 */
export function parseNetplan(text: string, file: string): ConfiguredInterface[] {
  const doc: unknown = parseYaml(text);
  const network = isMap(doc) && isMap(doc['network']) ? doc['network'] : undefined;
  if (!network) return [];
  const result: ConfiguredInterface[] = [];
  const idToName = new Map<string, string>();
  for (const section of ['ethernets', 'wifis']) {
    const devices = network[section];
    if (!isMap(devices)) continue;
    for (const [id, device] of Object.entries(devices)) {
      if (!isMap(device)) continue;
      const match = isMap(device['match']) ? device['match'] : undefined;
      const mac = normalizeMac(typeof match?.['macaddress'] === 'string' ? match['macaddress'] : undefined);
      const matchName = typeof match?.['name'] === 'string' ? match['name'] : undefined;
      const setName = typeof device['set-name'] === 'string' ? device['set-name'] : undefined;
      const name = setName ?? matchName ?? (match === undefined ? id : undefined);
      if (name !== undefined) idToName.set(id, name);
      else if (mac !== undefined) idToName.set(id, `mac:${mac}`);
      if (name !== undefined && !isConcreteName(name)) continue;
      if (name === undefined && mac === undefined) continue;
      const dhcp = device['dhcp4'] === true || device['dhcp4'] === 'yes' || device['dhcp4'] === 'true';
      result.push({
        file,
        kind: 'netplan',
        ...(name !== undefined ? { name } : {}),
        ...(mac ? { mac } : {}),
        virtual: false,
        lowers: [],
        // netplan writes a .link file for set-name only together with a match.
        ...(setName !== undefined && match !== undefined ? { setsName: true } : {}),
        ...(dhcp ? { dhcp } : {}),
        staticIps: netplanAddresses(device),
      });
    }
  }
  const lowerName = (id: string): string => idToName.get(id) ?? id;
  for (const section of ['bonds', 'bridges', 'vlans']) {
    const devices = network[section];
    if (!isMap(devices)) continue;
    for (const [id, device] of Object.entries(devices)) {
      if (!isMap(device)) continue;
      const lowers = section === 'vlans' ? (typeof device['link'] === 'string' ? [device['link']] : []) : stringList(device['interfaces']);
      const dhcp = device['dhcp4'] === true;
      const members = lowers.map(lowerName).filter((n) => n.startsWith('mac:') || isConcreteName(n));
      result.push({
        file,
        kind: 'netplan',
        name: id,
        virtual: true,
        lowers: members,
        ...(dhcp ? { dhcp } : {}),
        staticIps: netplanAddresses(device),
      });
    }
  }
  return result;
}

// ---------------------------------------------------------- existing pins ----

/** The name a systemd `.link` file gives to a MAC ([Match] MACAddress= or PermanentMACAddress=, [Link] Name=). */
export function parseLinkFile(text: string, file: string): ExistingPin[] {
  const ini = parseIni(text);
  const name = ini.get('Link')?.get('Name')?.at(-1);
  if (name === undefined || !isConcreteName(name)) return [];
  const macs = [...(ini.get('Match')?.get('MACAddress') ?? []), ...(ini.get('Match')?.get('PermanentMACAddress') ?? [])]
    .flatMap((v) => words(v))
    .map(normalizeMac)
    .filter((m): m is string => m !== undefined);
  return macs.map((mac) => ({ file, mac, name }));
}

/** The names udev rules give to MACs (`ATTR{address}=="MAC"` with `NAME="name"`), e.g. 70-persistent-net.rules. */
export function parseUdevNetRules(text: string, file: string): ExistingPin[] {
  const pins: ExistingPin[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().startsWith('#')) continue;
    const mac = normalizeMac(/ATTRS?\{address\}=="([^"]+)"/.exec(line)?.[1]);
    const name = /(?:^|[\s,])NAME:?="([^"]+)"/.exec(line)?.[1];
    if (mac !== undefined && name !== undefined && isConcreteName(name)) pins.push({ file, mac, name });
  }
  return pins;
}
