/**
 * Keeps a Linux guest's interface names on KVM. VMware names a vmxnet3 NIC in
 * PCI slot 192 `ens192`; the same NIC as virtio-net on q35 becomes `enp1s0`,
 * and every config that names ens192 then names nothing (docs/networks.md,
 * "Why ens192 on VMware is enp1s0 on KVM").
 *
 * The plan, as pure functions: the guest's network config (read by
 * read-config.ts, parsed by config.ts) gives the names; each name it uses
 * is tied to a source NIC (by the MAC the config names, else by VMware's PCI
 * slot → ensN naming, else the only NIC) and pinned to that NIC's MAC, which
 * the target NIC keeps: a systemd .link file where udev is systemd's, a
 * persistent-net udev rule on older guests. The user's config is rewritten
 * only for `--mac MAC:ip:...` (static.ts). Ambiguity is a warning
 * naming the interfaces, never a guess.
 */
import type { NicNetworkReport, SourceNic, StaticIp } from '../../../model.js';
import { KIND_NAMES, ownerOfConfigured, type OwnerFacts } from './owner.js';
import { type ConfiguredInterface, type ExistingPin, type NetConfigKind } from './config.js';

/** A NIC-facing interface of the guest's config, bonds/VLANs/bridges looked through. */
export interface PhysicalInterface {
  /** Name the config binds to; absent when it binds by MAC only. */
  name?: string;
  mac?: string;
  /** Virtual interfaces built on it (bond0, ens192.100, br0). */
  uppers: string[];
  files: string[];
  /** The config renames it by MAC itself (netplan set-name). */
  setsName: boolean;
  /** The network systems whose config names it. */
  kinds: NetConfigKind[];
  dhcp: boolean;
  staticIps: StaticIp[];
}

/** What the pinning needs to know about the guest besides its config. */
export interface PinGuest {
  /** systemd-udevd is the guest's udev, so it reads /etc/systemd/network/*.link. */
  systemdUdev: boolean;
  /** The kernel command line turns predictable names off (net.ifnames=0): NICs keep kernel names (eth0...). */
  kernelNames: boolean;
  /** Names already pinned to MACs by .link files or udev rules. */
  existingPins: ExistingPin[];
  /** Current text of /etc/udev/rules.d/70-persistent-net.rules (absent: no such file). */
  persistentNetRules?: string;
  /** Active network systems (owner.ts): when the config of several gives a NIC different names, the manager's is pinned. */
  owner?: OwnerFacts;
}

/** The decisions: reports per NIC, files to write in the guest, warnings and log lines. */
export interface PinPlan {
  reports: NicNetworkReport[];
  writes: Array<{ path: string; content: string }>;
  warnings: string[];
  log: string[];
}

/** Directory of systemd .link files the administrator owns. */
export const LINK_DIR = '/etc/systemd/network';
/** The udev rules file older guests name their NICs in. */
export const PERSISTENT_NET_RULES = '/etc/udev/rules.d/70-persistent-net.rules';

/** Guest path of the .link file pinning `name` (10-: sorted before 99-default.link and most distribution files). */
export function linkFilePath(name: string): string {
  return `${LINK_DIR}/10-v2v-${name}.link`;
}

/**
 * The .link file pinning `name` to `mac`. It matches virtual devices that
 * share the MAC (a VLAN's, a bond's) only in theory: udev does not rename a
 * device userspace created with a name of its own ("Device already has a
 * name given by userspace, not renaming").
 */
export function linkFileContent(name: string, mac: string): string {
  return [
    `# Written by v2v when this guest was converted to KVM: its network config`,
    `# uses the name ${name}, which the NIC with this MAC had on VMware.`,
    '[Match]',
    `MACAddress=${mac}`,
    '',
    '[Link]',
    `Name=${name}`,
    '',
  ].join('\n');
}

/** One persistent-net rule line naming the NIC with `mac` (as udev's own generator wrote them). */
export function persistentNetRule(name: string, mac: string): string {
  return `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${mac}", ATTR{type}=="1", NAME="${name}"`;
}

/** Merges config entries into the physical interfaces they sit on, bonds/VLANs/bridges looked through. */
export function physicalInterfaces(entries: ConfiguredInterface[]): PhysicalInterface[] {
  const virtualNames = new Set(entries.filter((e) => e.virtual && e.name !== undefined).map((e) => e.name as string));
  const lowersOf = (name: string): string[] => entries.filter((e) => e.virtual && e.name === name).flatMap((e) => e.lowers);
  const basesOf = (name: string, seen: Set<string>): string[] => {
    if (!virtualNames.has(name)) return [name];
    if (seen.has(name)) return [];
    seen.add(name);
    return lowersOf(name).flatMap((lower) => basesOf(lower, seen));
  };
  const byKey = new Map<string, PhysicalInterface>();
  const get = (key: string, seed: Partial<PhysicalInterface>): PhysicalInterface => {
    let phys = byKey.get(key);
    if (!phys) {
      phys = { uppers: [], files: [], setsName: false, kinds: [], dhcp: false, staticIps: [], ...seed };
      byKey.set(key, phys);
    }
    return phys;
  };
  const absorb = (phys: PhysicalInterface, entry: ConfiguredInterface): void => {
    if (!phys.files.includes(entry.file)) phys.files.push(entry.file);
    if (!phys.kinds.includes(entry.kind)) phys.kinds.push(entry.kind);
    phys.dhcp ||= entry.dhcp === true;
    for (const ip of entry.staticIps) if (!phys.staticIps.some((s) => s.address === ip.address)) phys.staticIps.push(ip);
  };
  for (const entry of entries) {
    if (entry.virtual || (entry.name !== undefined && virtualNames.has(entry.name))) continue;
    const key = entry.name ?? `mac:${entry.mac ?? ''}`;
    const phys = get(key, { ...(entry.name !== undefined ? { name: entry.name } : {}) });
    if (entry.mac !== undefined) phys.mac ??= entry.mac;
    phys.setsName ||= entry.setsName === true;
    absorb(phys, entry);
  }
  for (const entry of entries) {
    if (!entry.virtual || entry.name === undefined) continue;
    for (const base of basesOf(entry.name, new Set())) {
      const phys = get(base, base.startsWith('mac:') ? { mac: base.slice(4) } : { name: base });
      if (!phys.uppers.includes(entry.name)) phys.uppers.push(entry.name);
      absorb(phys, entry);
    }
  }
  return [...byKey.values()];
}

type MatchedBy = NonNullable<NicNetworkReport['matchedBy']>;

/** The name systemd gives a NIC in VMware PCI slot N. */
const ENS_SLOT_RE = /^ens(\d+)$/;
/** Kernel-namespace names: a .link file racing the kernel for them is unsafe (docs/networks.md, "Why kernel names (eth0) are not pinned with a .link file"). */
const KERNEL_NAME_RE = /^eth\d+$/;

/** Which config interfaces each source NIC (by index) was tied to, and the interfaces tied to none. */
export interface Ties {
  assigned: Map<number, Array<{ phys: PhysicalInterface; by: MatchedBy }>>;
  /** Interfaces no NIC could be tied to, with why. */
  unmatched: Array<{ phys: PhysicalInterface; note: string }>;
  warnings: string[];
}

/**
 * Ties the config's interfaces to source NICs: by the MAC the config names,
 * else by VMware's slot name (ensN), else the only NIC. Pure.
 */
export function tieInterfaces(physicals: PhysicalInterface[], nics: SourceNic[]): Ties {
  const ties: Ties = { assigned: new Map(), unmatched: [], warnings: [] };
  const assign = (index: number, phys: PhysicalInterface, by: MatchedBy): void => {
    ties.assigned.set(index, [...(ties.assigned.get(index) ?? []), { phys, by }]);
  };
  const pending: PhysicalInterface[] = [];
  for (const phys of physicals) {
    if (phys.mac !== undefined) {
      const index = nics.findIndex((n) => n.mac === phys.mac);
      if (index !== -1) assign(index, phys, 'mac');
      else {
        const what = `${phys.files.join(', ')} ${phys.name !== undefined ? `bind${phys.files.length === 1 ? 's' : ''} ${phys.name} to` : `name${phys.files.length === 1 ? 's' : ''}`} MAC ${phys.mac}, which no source NIC has`;
        ties.warnings.push(`${what}: that network config will not apply on KVM either; fix it in the guest`);
        ties.unmatched.push({ phys, note: `${what}; nothing pinned` });
      }
      continue;
    }
    const slot = phys.name !== undefined ? ENS_SLOT_RE.exec(phys.name)?.[1] : undefined;
    const index = slot !== undefined ? nics.findIndex((n) => n.pciSlot === Number(slot)) : -1;
    if (index !== -1) assign(index, phys, 'pci-slot');
    else pending.push(phys);
  }
  if (pending.length === 1 && nics.length === 1 && !(ties.assigned.get(0) ?? []).some((a) => a.phys.name !== undefined)) {
    assign(0, pending[0] as PhysicalInterface, 'only-nic');
  } else if (pending.length > 0) {
    const names = pending.map((p) => p.name ?? '?').join(', ');
    const why =
      nics.length === 0
        ? `the guest's network config names ${names} but the VM has no NIC`
        : `cannot tell which source NIC the guest's interface${pending.length > 1 ? 's' : ''} ${names} ${pending.length > 1 ? 'are' : 'is'} (no MAC in the config, no VMware slot name)`;
    ties.warnings.push(
      `${why}: ${pending.length > 1 ? 'they were' : 'it was'} not pinned; after the first boot check the guest's interface names (ip link) against its network config`,
    );
    for (const phys of pending) ties.unmatched.push({ phys, note: `${why}; nothing pinned` });
  }
  return ties;
}

/** Ties the config's interfaces to source NICs and decides what to pin. Pure. */
export function planNetworkPins(physicals: PhysicalInterface[], nics: SourceNic[], guest: PinGuest): PinPlan {
  const plan: PinPlan = { reports: [], writes: [], warnings: [], log: [] };
  const { assigned, unmatched, warnings } = tieInterfaces(physicals, nics);
  plan.warnings.push(...warnings);
  for (const { phys, note } of unmatched) {
    plan.reports.push({
      names: namesOf([phys]),
      files: [],
      staticIps: phys.staticIps,
      ...(phys.dhcp ? { dhcp: true } : {}),
      source: 'guest',
      note,
    });
  }

  const ruleLines: string[] = [];
  nics.forEach((nic, index) => {
    const ties = assigned.get(index);
    if (!ties) return;
    const phys = ties.map((t) => t.phys);
    const report: NicNetworkReport = {
      ...(nic.mac !== undefined ? { mac: nic.mac } : {}),
      names: namesOf(phys),
      matchedBy: (ties.find((t) => t.by === 'mac') ?? ties[0])?.by ?? 'only-nic',
      files: [],
      staticIps: dedupIps(phys.flatMap((p) => p.staticIps)),
      ...(phys.some((p) => p.dhcp) ? { dhcp: true } : {}),
      source: 'guest',
    };
    plan.reports.push(report);
    const nicLabel = `NIC ${index + 1}${nic.mac !== undefined ? ` (${nic.mac})` : ''}`;
    const named = managedNames(phys, guest.owner, nicLabel, plan.log);
    if (named.length === 0) {
      report.note = 'the config matches this NIC by MAC address: it applies under any name';
      return;
    }
    if (named.length > 1) {
      report.note = `the guest's config gives this NIC several names (${named.join(', ')}); nothing pinned`;
      plan.warnings.push(
        `the guest's network config gives ${nicLabel} several names (${named.join(', ')}): none was pinned; keep one in the guest's config`,
      );
      return;
    }
    const name = named[0] as string;
    if (nic.mac === undefined) {
      report.note = 'the source NIC has no fixed MAC to pin the name to';
      plan.warnings.push(`${nicLabel} has no fixed MAC in the source: its interface name ${name} could not be pinned`);
      return;
    }
    if (phys.some((p) => p.setsName && p.name === name)) {
      report.note = `netplan renames it to ${name} by MAC itself (set-name); nothing pinned`;
      return;
    }
    const existing = guest.existingPins.filter((p) => p.mac === nic.mac);
    const same = existing.find((p) => p.name === name);
    if (same) {
      report.pinned = name;
      report.note = `already pinned by ${same.file}`;
      plan.log.push(`${name} (${nic.mac}) is already pinned by ${same.file}`);
      return;
    }
    if (existing[0]) {
      report.note = `${existing[0].file} names this NIC ${existing[0].name}; nothing pinned`;
      plan.warnings.push(
        `${existing[0].file} names ${nicLabel} ${existing[0].name}, but the guest's network config uses ${name}: left as is; make them agree in the guest`,
      );
      return;
    }
    if (guest.systemdUdev && KERNEL_NAME_RE.test(name)) {
      if (guest.kernelNames && nics.length === 1 && name === 'eth0') {
        report.note = 'kernel names are in use (net.ifnames=0): the only NIC is eth0 on any hardware; nothing pinned';
        return;
      }
      report.note = `${name} is a kernel name: a .link file cannot pin it safely (it races the kernel's own naming); nothing pinned`;
      plan.warnings.push(
        `the guest's network config uses the kernel name ${name} for ${nicLabel}: it cannot be pinned safely, so it was not; the kernel numbers NICs in the order it finds them, check it after the first boot`,
      );
      return;
    }
    if (guest.systemdUdev) {
      const path = linkFilePath(name);
      plan.writes.push({ path, content: linkFileContent(name, nic.mac) });
      report.files.push(path);
      plan.log.push(`pinned ${name} to ${nic.mac} with ${path}`);
    } else {
      ruleLines.push(persistentNetRule(name, nic.mac));
      report.files.push(PERSISTENT_NET_RULES);
      plan.log.push(`pinned ${name} to ${nic.mac} in ${PERSISTENT_NET_RULES}`);
    }
    report.pinned = name;
  });
  if (ruleLines.length > 0) {
    const before = guest.persistentNetRules ?? '';
    const header = before === '' ? '# Network interface names, by MAC.\n' : before.endsWith('\n') ? '' : '\n';
    plan.writes.push({
      path: PERSISTENT_NET_RULES,
      content: `${before}${header}# Added by v2v (conversion to KVM): the names the network config uses.\n${ruleLines.join('\n')}\n`,
    });
  }
  return plan;
}

/**
 * The names the config gives a NIC; when the config of several systems
 * gives it different names, the name of the system that manages it
 * (owner.ts), if that one gives it one name.
 */
function managedNames(phys: readonly PhysicalInterface[], facts: OwnerFacts | undefined, nicLabel: string, log: string[]): string[] {
  const nameOf = (ps: readonly PhysicalInterface[]): string[] => [
    ...new Set(ps.map((p) => p.name).filter((n): n is string => n !== undefined)),
  ];
  const all = nameOf(phys);
  if (all.length < 2 || facts === undefined) return all;
  const owner = ownerOfConfigured(new Set(phys.flatMap((p) => p.kinds)), facts);
  const own = owner === undefined ? all : nameOf(phys.filter((p) => p.kinds.includes(owner.kind)));
  if (owner === undefined || own.length !== 1) return all;
  const others = phys.filter((p) => p.name !== undefined && p.name !== own[0]);
  log.push(
    `${nicLabel} is managed by ${KIND_NAMES[owner.kind]}${owner.why !== undefined ? ` (${owner.why})` : ''}: its name ${own[0]} is the one used; ${others.map((p) => `${p.name ?? '?'} (${p.files.join(', ')})`).join(', ')} not`,
  );
  return own;
}

function namesOf(phys: PhysicalInterface[]): string[] {
  return [...new Set(phys.flatMap((p) => [...(p.name !== undefined ? [p.name] : []), ...p.uppers]))];
}

function dedupIps(ips: StaticIp[]): StaticIp[] {
  return ips.filter((ip, i) => ips.findIndex((o) => o.address === ip.address) === i);
}

/** One line for the log / an info event: what was found and done for one NIC. */
export function describeNetworkReport(report: NicNetworkReport): string {
  const nic = report.mac !== undefined ? `NIC ${report.mac}` : 'no NIC';
  const names = report.names.length > 0 ? report.names.join('+') : '(by MAC)';
  const how = report.matchedBy !== undefined ? ` (matched by ${report.matchedBy})` : '';
  const addresses = report.staticIps.map((ip) => `${ip.address}${ip.prefix !== undefined ? `/${ip.prefix}` : ''}`);
  const config = [...addresses, ...(report.dhcp ? ['DHCP'] : [])].join(', ');
  const from = report.source === 'option' && report.staticIps.length > 0 ? ' from --mac' : '';
  const pins = report.files.filter(isPinFile);
  const configs = report.files.filter((f) => !isPinFile(f));
  const done = [
    ...(report.pinned !== undefined && pins.length > 0 ? [`pinned ${report.pinned} by ${pins.join(', ')}`] : []),
    ...(configs.length > 0 ? [`static config written to ${configs.join(', ')}`] : []),
    ...(report.note !== undefined && (pins.length === 0 || report.note.includes('--mac')) ? [report.note] : []),
  ];
  return `network: ${nic}: ${names}${how}${config ? ` [${config}${from}]` : ''}: ${done.length > 0 ? done.join('; ') : 'nothing to do'}`;
}

/** Whether a guest file is a name pin (a .link file or the persistent-net rules), which the initramfs must hold. */
export function isPinFile(path: string): boolean {
  return path === PERSISTENT_NET_RULES || (path.startsWith(`${LINK_DIR}/`) && path.endsWith('.link'));
}
