/**
 * The text of a static IP configuration (`--mac MAC:ip:...`) in each Linux
 * network system's own format, and the edits that retire what the guest had
 * for that interface without losing it. Pure functions over file text;
 * static.ts decides which to use and writes them.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { parseDocument, Scalar, YAMLMap } from 'yaml';
import type { StaticIp } from '../../../model.js';
import { parseIni } from './config.js';

/** 24 for IPv4, 64 for IPv6 when --mac gave no prefix (as virt-v2v). */
export function prefixOf(ip: StaticIp): number {
  return ip.prefix ?? (isIP(ip.address) === 6 ? 64 : 24);
}

/** "192.0.2.20/24". */
export function cidrOf(ip: StaticIp): string {
  return `${ip.address}/${prefixOf(ip)}`;
}

/** The DNS servers of all addresses, in order, once each. */
export function dnsOf(ips: readonly StaticIp[]): string[] {
  return [...new Set(ips.flatMap((ip) => ip.dns))];
}

const isV6 = (ip: StaticIp): boolean => isIP(ip.address) === 6;

/** The first gateway of one address family. */
function gatewayOf(ips: readonly StaticIp[], v6: boolean): string | undefined {
  return ips.find((ip) => isV6(ip) === v6 && ip.gateway !== undefined)?.gateway;
}

/** What a written file says it comes from: the option as given. */
export function optionText(mac: string, ips: readonly StaticIp[]): string {
  return ips
    .map((ip) => `--mac ${mac}:ip:${[ip.address, ip.gateway ?? '', ip.prefix ?? '', ...ip.dns].join(',').replace(/,+$/, '')}`)
    .join(' ');
}

/** Every line prefixed with "# ", so a file keeps what it replaced. */
function commented(lines: readonly string[]): string[] {
  return lines.map((l) => (l === '' ? '#' : `# ${l}`));
}

// ------------------------------------------------------------- ifupdown ----

/**
 * interfaces(5) stanzas for `name`: one `iface NAME inet|inet6 static` per
 * address (ifupdown takes one address per stanza), the gateway on the first
 * of its family, `dns-nameservers` on the first (read by resolvconf's or
 * systemd-resolved's ifupdown hook).
 */
export function ifupdownStanzas(name: string, ips: readonly StaticIp[], withDns: boolean): string[] {
  const lines: string[] = [];
  const dns = dnsOf(ips);
  const gatewayDone = new Set<boolean>();
  ips.forEach((ip, i) => {
    const v6 = isV6(ip);
    lines.push(`iface ${name} ${v6 ? 'inet6' : 'inet'} static`, `    address ${cidrOf(ip)}`);
    const gateway = gatewayOf(ips, v6);
    if (gateway !== undefined && !gatewayDone.has(v6)) lines.push(`    gateway ${gateway}`);
    gatewayDone.add(v6);
    if (i === 0 && withDns && dns.length > 0) lines.push(`    dns-nameservers ${dns.join(' ')}`);
  });
  return lines;
}

/** Stanza keywords of interfaces(5): a stanza ends where the next begins. */
const STANZA_RE = /^\s*(iface|mapping|auto|allow-[\w-]+|source|source-directory|no-auto-down|no-scripts|rename)(\s|$)/;

/** Line ranges [start, end) of the `iface NAME inet|inet6 ...` stanzas of a file (end: after its last option line). */
function ifaceStanzas(lines: readonly string[], name: string, families: ReadonlySet<string>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < lines.length; i++) {
    const words = (lines[i] ?? '').trim().split(/\s+/);
    if (words[0] !== 'iface' || words[1] !== name || !families.has(words[2] ?? '')) continue;
    let end = i + 1;
    for (let j = i + 1; j < lines.length && !STANZA_RE.test(lines[j] ?? ''); j++) {
      const line = (lines[j] ?? '').trim();
      if (line !== '' && !line.startsWith('#')) end = j + 1;
    }
    ranges.push([i, end]);
  }
  return ranges;
}

/** Whether an `auto` or `allow-*` line of the text brings `name` up. */
export function ifupdownBringsUp(text: string, name: string): boolean {
  return text.split('\n').some((l) => /^\s*(auto|allow-[\w-]+)\s/.test(l) && l.trim().split(/\s+/).slice(1).includes(name));
}

/**
 * Replaces the `iface NAME` stanzas of the address families `ips` use by
 * static ones; the old stanzas stay in place, commented out. Returns
 * undefined when the text has no such stanza.
 */
export function replaceIfupdownStanzas(
  text: string,
  name: string,
  mac: string,
  ips: readonly StaticIp[],
  withDns: boolean,
): string | undefined {
  const lines = text.split('\n');
  const families = new Set(ips.map((ip) => (isV6(ip) ? 'inet6' : 'inet')));
  const ranges = ifaceStanzas(lines, name, families);
  const first = ranges[0];
  if (first === undefined) return undefined;
  const out: string[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    out.push(...lines.slice(at, start));
    if (start === first[0]) {
      out.push(`# v2v: ${optionText(mac, ips)} replaced the stanza commented out below.`, ...ifupdownStanzas(name, ips, withDns));
    }
    out.push(...commented(lines.slice(start, end)));
    at = end;
  }
  out.push(...lines.slice(at));
  return out.join('\n');
}

/** A new interfaces(5) file (or the tail appended to one) configuring `name`. */
export function newIfupdownConfig(name: string, mac: string, ips: readonly StaticIp[], withDns: boolean, bringUp: boolean): string {
  return [
    `# Written by v2v: ${optionText(mac, ips)} (the NIC with MAC ${mac}, named ${name}).`,
    ...(bringUp ? [`allow-hotplug ${name}`] : []),
    ...ifupdownStanzas(name, ips, withDns),
    '',
  ].join('\n');
}

/**
 * /etc/resolv.conf with `dns` as its name servers: the old `nameserver`
 * lines kept, commented out; search/options lines kept as they are.
 */
export function resolvConfWith(before: string | undefined, dns: readonly string[]): string {
  const kept = (before ?? '').split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
  const old = kept.map((l) => (/^\s*nameserver\s/.test(l) ? `# ${l}  (before v2v)` : l));
  return [...old, '# Written by v2v (--mac ...:ip:...):', ...dns.map((d) => `nameserver ${d}`), ''].join('\n');
}

// ---------------------------------------------------------------- ifcfg ----

/**
 * An ifcfg file (RHEL initscripts / NetworkManager's ifcfg-rh) for `name`
 * bound to `mac`: IPADDR0/PREFIX0... for IPv4, IPV6ADDR(_SECONDARIES) for
 * IPv6, DNS1.... The file it replaces, if any, follows commented out.
 */
export function ifcfgRhel(name: string, mac: string, ips: readonly StaticIp[], before?: string): string {
  const v4 = ips.filter((ip) => !isV6(ip));
  const v6 = ips.filter(isV6);
  const lines = [
    `# Written by v2v: ${optionText(mac, ips)}.`,
    `DEVICE=${name}`,
    `HWADDR=${mac}`,
    'TYPE=Ethernet',
    'ONBOOT=yes',
    'BOOTPROTO=none',
    ...v4.flatMap((ip, i) => [`IPADDR${v4.length > 1 ? i : ''}=${ip.address}`, `PREFIX${v4.length > 1 ? i : ''}=${prefixOf(ip)}`]),
    ...(gatewayOf(ips, false) !== undefined ? [`GATEWAY=${gatewayOf(ips, false)}`] : []),
    ...(v6.length > 0 ? ['IPV6INIT=yes', `IPV6ADDR=${cidrOf(v6[0] as StaticIp)}`] : []),
    ...(v6.length > 1 ? [`IPV6ADDR_SECONDARIES="${v6.slice(1).map(cidrOf).join(' ')}"`] : []),
    ...(gatewayOf(ips, true) !== undefined ? [`IPV6_DEFAULTGW=${gatewayOf(ips, true)}`] : []),
    ...dnsOf(ips).map((d, i) => `DNS${i + 1}=${d}`),
  ];
  return [...lines, ...beforeBlock(before), ''].join('\n');
}

/**
 * A SUSE (wicked) ifcfg file for `name`: BOOTPROTO static, IPADDR[_N] with
 * the prefix. SUSE keeps the gateway in ifroute-NAME (ifrouteSuse) and DNS
 * in netconfig, not here.
 */
export function ifcfgSuse(name: string, mac: string, ips: readonly StaticIp[], before?: string): string {
  const lines = [
    `# Written by v2v: ${optionText(mac, ips)} (NIC ${name}).`,
    "STARTMODE='auto'",
    "BOOTPROTO='static'",
    ...ips.map((ip, i) => `IPADDR${i === 0 ? '' : `_${i}`}='${cidrOf(ip)}'`),
  ];
  return [...lines, ...beforeBlock(before), ''].join('\n');
}

/** SUSE's ifroute-NAME: the default routes of `ips` (absent: no gateway given). */
export function ifrouteSuse(name: string, ips: readonly StaticIp[]): string | undefined {
  const routes = [false, true].flatMap((v6) => {
    const gateway = gatewayOf(ips, v6);
    return gateway === undefined ? [] : [`default ${gateway} - ${name}`];
  });
  return routes.length === 0 ? undefined : ['# Written by v2v (--mac ...:ip:...).', ...routes, ''].join('\n');
}

function beforeBlock(before: string | undefined): string[] {
  if (before === undefined) return [];
  const lines = before.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return ['', '# v2v: the file as it was before the conversion:', ...commented(lines)];
}

// ------------------------------------------------------ NetworkManager ----

/** A stable UUID for v2v's connection of one MAC (name-based, RFC 4122 version 5 layout). */
export function connectionUuid(mac: string): string {
  const hash = createHash('sha1').update(`v2v-static:${mac}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A NetworkManager keyfile bound to `mac` (any interface name) with static addresses. */
export function nmKeyfile(mac: string, ips: readonly StaticIp[]): string {
  const section = (v6: boolean): string[] => {
    const own = ips.filter((ip) => isV6(ip) === v6);
    const dns = dnsOf(ips).filter((d) => (isIP(d) === 6) === v6);
    if (own.length === 0) return [`[ipv${v6 ? 6 : 4}]`, `method=${v6 ? 'ignore' : 'disabled'}`, ''];
    const gateway = gatewayOf(ips, v6);
    return [
      `[ipv${v6 ? 6 : 4}]`,
      'method=manual',
      ...own.map((ip, i) => `address${i + 1}=${cidrOf(ip)}${i === 0 && gateway !== undefined ? `,${gateway}` : ''}`),
      ...(dns.length > 0 ? [`dns=${dns.join(';')};`] : []),
      '',
    ];
  };
  return [
    `# Written by v2v: ${optionText(mac, ips)}.`,
    '[connection]',
    `id=v2v ${mac}`,
    `uuid=${connectionUuid(mac)}`,
    'type=ethernet',
    'autoconnect=true',
    'autoconnect-priority=100',
    '',
    '[ethernet]',
    `mac-address=${mac.toUpperCase()}`,
    '',
    ...section(false),
    ...section(true),
  ].join('\n');
}

/**
 * A keyfile that no longer connects by itself (`autoconnect=false` in
 * [connection]), otherwise unchanged: the user can still bring it up.
 */
export function nmWithoutAutoconnect(text: string): string {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.trim() === '[connection]');
  if (header === -1) return `[connection]\nautoconnect=false\n\n${text}`;
  let end = lines.findIndex((l, i) => i > header && /^\s*\[.+\]\s*$/.test(l));
  if (end === -1) end = lines.length;
  const existing = lines.findIndex((l, i) => i > header && i < end && /^\s*autoconnect\s*=/.test(l));
  if (existing !== -1) lines[existing] = 'autoconnect=false';
  else lines.splice(header + 1, 0, 'autoconnect=false');
  return lines.join('\n');
}

/** Whether the keyfile's [connection] already says autoconnect=false. */
export function nmAutoconnectOff(text: string): boolean {
  return /^(false|no|0)$/i.test(parseIni(text).get('connection')?.get('autoconnect')?.at(-1) ?? '');
}

// --------------------------------------------------------------- netplan ----

/** netplan's settings for the addresses: dhcp off, addresses, default routes, nameservers. */
function netplanSettings(ips: readonly StaticIp[]): Record<string, unknown> {
  const routes = [false, true].flatMap((v6) => {
    const via = gatewayOf(ips, v6);
    return via === undefined ? [] : [{ to: v6 ? '::/0' : '0.0.0.0/0', via }];
  });
  const dns = dnsOf(ips);
  return {
    dhcp4: false,
    dhcp6: false,
    addresses: ips.map(cidrOf),
    ...(routes.length > 0 ? { routes } : {}),
    ...(dns.length > 0 ? { nameservers: { addresses: dns } } : {}),
  };
}

/** Keys of a netplan device that say how it gets addresses: replaced as a whole. */
const NETPLAN_ADDRESS_KEYS = ['dhcp4', 'dhcp6', 'addresses', 'gateway4', 'gateway6', 'routes', 'nameservers'];

/**
 * A new netplan file: one ethernet matched by MAC. `renderer`: the guest's
 * global one when it is not networkd (netplan's default), set on the device
 * so it goes where the guest's other devices go whichever file sets it.
 */
export function netplanNew(mac: string, ips: readonly StaticIp[], renderer?: string): string {
  const doc = parseDocument('network:\n  version: 2\n');
  // Quoted: an all-digit MAC (00:50:56:11:22:33) is a number in YAML 1.1.
  const quotedMac = Object.assign(new Scalar(mac), { type: Scalar.QUOTE_DOUBLE });
  const device = {
    match: { macaddress: quotedMac },
    ...(renderer !== undefined && renderer !== 'networkd' ? { renderer } : {}),
    ...netplanSettings(ips),
  };
  doc.setIn(['network', 'ethernets', `v2v-${mac.replace(/:/g, '')}`], doc.createNode(device));
  doc.commentBefore = ` Written by v2v: ${optionText(mac, ips)}.`;
  return doc.toString();
}

/**
 * The netplan file with the ethernets that are this NIC (by `match:
 * macaddress`, `set-name`, `match: name` or id) given the static settings,
 * their other keys kept; undefined when the file defines none of them.
 * Edited, not overridden: netplan appends sequences (addresses) of later
 * files to earlier ones instead of replacing them.
 */
export function netplanEdit(
  text: string,
  name: string | undefined,
  mac: string,
  ips: readonly StaticIp[],
  setHere: boolean,
): string | undefined {
  const doc = parseDocument(text);
  const ethernets = doc.getIn(['network', 'ethernets']);
  if (!(ethernets instanceof YAMLMap)) return undefined;
  let changed = false;
  for (const pair of ethernets.items) {
    const id = String((pair.key as { value?: unknown })?.value ?? pair.key);
    const device: unknown = pair.value;
    if (!(device instanceof YAMLMap)) continue;
    const matchMac = scalarText(device.getIn(['match', 'macaddress'])).toLowerCase();
    const named: unknown = device.get('set-name') ?? device.getIn(['match', 'name']) ?? (device.has('match') ? undefined : id);
    if (matchMac !== mac && (name === undefined || named !== name)) continue;
    for (const key of NETPLAN_ADDRESS_KEYS) device.delete(key);
    if (setHere) for (const [key, value] of Object.entries(netplanSettings(ips))) device.set(key, doc.createNode(value));
    changed = true;
  }
  if (!changed) return undefined;
  doc.commentBefore = `${doc.commentBefore ? `${doc.commentBefore}\n` : ''} v2v: ${optionText(mac, ips)} set this NIC's addresses (the file as it was: .v2v-orig next to it).`;
  // The rest of the file as written: `[a, b]`, not `[ a, b ]`.
  return doc.toString({ flowCollectionPadding: false });
}

// ------------------------------------------------------ systemd-networkd ----

/**
 * A .network file for the NIC with `mac` (Type=ether: not the VLANs and
 * bonds that share its MAC). DNS= takes effect with systemd-resolved
 * (without it, static.ts writes /etc/resolv.conf or warns).
 */
export function networkdNetwork(mac: string, ips: readonly StaticIp[]): string {
  const gateways = [false, true].map((v6) => gatewayOf(ips, v6)).filter((g): g is string => g !== undefined);
  return [
    `# Written by v2v: ${optionText(mac, ips)}. It sorts before the guest's own`,
    '# .network files, and systemd-networkd uses the first file that matches.',
    '[Match]',
    `MACAddress=${mac}`,
    'Type=ether',
    '',
    '[Network]',
    ...ips.map((ip) => `Address=${cidrOf(ip)}`),
    ...gateways.map((g) => `Gateway=${g}`),
    ...dnsOf(ips).map((d) => `DNS=${d}`),
    '',
  ].join('\n');
}

/** A YAML scalar as text ('' for a map, a list or nothing). */
function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}
