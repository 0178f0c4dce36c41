/**
 * Which network system really configures a NIC of a Linux guest, when
 * several could (`--mac MAC:ip:...` must edit that one: static.ts).
 * Pure functions over what static-guest.ts read.
 *
 * The rule, per NIC ("active": installed, and enabled where it is a service:
 * NetworkManager, systemd-networkd; ifupdown needs `ifup` and
 * /etc/network/interfaces; ifcfg needs initscripts' ifup-eth, SUSE's wicked
 * or NetworkManager's ifcfg-rh):
 *
 * | config naming the NIC          | guest                                   | manager          |
 * |--------------------------------|-----------------------------------------|------------------|
 * | netplan (+ anything)           | netplan installed                       | netplan: the source of truth; it renders to networkd or NetworkManager at every boot (its `renderer`), so their generated files are not edited |
 * | ifupdown + NetworkManager      | NM's `[ifupdown] managed` false (default) | ifupdown: NM's ifupdown plugin leaves devices /etc/network/interfaces configures unmanaged, so the NM profile is not used |
 * | ifupdown + NetworkManager      | `[ifupdown] managed=true`               | NetworkManager   |
 * | ifcfg + NetworkManager keyfile | NM active                               | NetworkManager (ifcfg-rh reads both; v2v's keyfile has the higher autoconnect-priority) |
 * | several others                 |                                         | the first of netplan, NetworkManager, ifcfg, networkd, ifupdown |
 * | only systems that are not active | another system is active              | as a NIC with no config (below); the stale files are left alone |
 * | only systems that are not active | none found active                     | the first of them in that order (v2v cannot tell) |
 *
 * | NIC with no config             | guest                                   | manager          |
 * |--------------------------------|-----------------------------------------|------------------|
 * | other NICs' manager is netplan |                                         | netplan          |
 * | (else)                         | NM active and managing new devices (no `unmanaged-devices` covering ethernet, as Ubuntu's 10-globally-managed-devices.conf) | NetworkManager: it takes any device nothing else claims |
 * | (else)                         | other NICs' manager (rule above) active | that one         |
 * | (else)                         |                                         | the first active of netplan, NetworkManager, ifcfg, networkd, ifupdown |
 */
import { parse as parseYaml } from 'yaml';
import { parseIni, type NetConfigKind } from './config.js';

/** What the decision needs to know about the guest. */
export interface OwnerFacts {
  /** Systems found active (see the table); absent: not known. */
  installed: Partial<Record<NetConfigKind, boolean>>;
  /** NetworkManager.conf's `[ifupdown] managed=true`: NM manages the devices /etc/network/interfaces configures. */
  nmIfupdownManaged: boolean;
  /** NetworkManager is active and takes devices no config names (no unmanaged-devices covering ethernet). */
  nmManagesNewDevices: boolean;
}

/** The order that breaks the remaining ties (netplan generates for NetworkManager or networkd). */
export const PRECEDENCE: readonly NetConfigKind[] = ['netplan', 'networkmanager', 'ifcfg', 'networkd', 'ifupdown'];

/** Display names for the log. */
export const KIND_NAMES: Record<NetConfigKind, string> = {
  netplan: 'netplan',
  networkmanager: 'NetworkManager',
  ifcfg: 'ifcfg',
  networkd: 'systemd-networkd',
  ifupdown: 'ifupdown',
};

/** The system that manages a NIC, and why when the choice was not the only one. */
export interface Owner {
  kind: NetConfigKind;
  /** Why the other systems with config for the NIC lost (for the log). */
  why?: string;
}

const isActive = (facts: OwnerFacts, kind: NetConfigKind): boolean => facts.installed[kind] !== false;
const anyKnownActive = (facts: OwnerFacts): boolean => PRECEDENCE.some((k) => facts.installed[k] === true);

/**
 * The manager of a NIC that the config of `kinds` names (the table's first
 * part). Undefined: none of them is active while another system is, so the
 * NIC is as one with no config.
 */
export function ownerOfConfigured(kinds: ReadonlySet<NetConfigKind>, facts: OwnerFacts): Owner | undefined {
  const all = PRECEDENCE.filter((k) => kinds.has(k));
  let live = all.filter((k) => isActive(facts, k));
  if (live.length === 0) {
    if (anyKnownActive(facts)) return undefined;
    const first = all[0];
    return first === undefined ? undefined : { kind: first };
  }
  const notes: string[] = [];
  const inactive = all.filter((k) => !live.includes(k));
  if (inactive.length > 0) notes.push(`${inactive.map((k) => KIND_NAMES[k]).join(', ')} not active in the guest`);
  if (live.includes('netplan') && live.length > 1) {
    notes.push('netplan renders the config of the others at boot');
    live = ['netplan'];
  }
  if (live.includes('ifupdown') && live.includes('networkmanager')) {
    if (facts.nmIfupdownManaged) {
      live = live.filter((k) => k !== 'ifupdown');
      notes.push('NetworkManager manages the devices of /etc/network/interfaces ([ifupdown] managed=true)');
    } else {
      live = live.filter((k) => k !== 'networkmanager');
      notes.push(
        'NetworkManager leaves the devices of /etc/network/interfaces unmanaged ([ifupdown] managed=false), so its profile is not used',
      );
    }
  }
  const kind = PRECEDENCE.find((k) => live.includes(k)) as NetConfigKind;
  const losers = live.filter((k) => k !== kind);
  if (losers.length > 0) notes.push(`${KIND_NAMES[kind]} comes before ${losers.map((k) => KIND_NAMES[k]).join(', ')}`);
  return { kind, ...(notes.length > 0 && all.length > 1 ? { why: notes.join('; ') } : {}) };
}

/** The manager of a NIC no config names (the table's second part); `others`: the systems that configure the guest's other NICs. */
export function ownerOfNew(others: ReadonlySet<NetConfigKind>, facts: OwnerFacts): NetConfigKind | undefined {
  const theirs = ownerOfConfigured(others, facts)?.kind;
  if (theirs === 'netplan') return theirs;
  if (facts.nmManagesNewDevices) return 'networkmanager';
  if (theirs !== undefined && isActive(facts, theirs)) return theirs;
  return PRECEDENCE.find((k) => facts.installed[k] === true);
}

// ------------------------------------------------------- NetworkManager ----

/** NetworkManager's settings that decide what it manages, from its config files in the order it reads them. */
export function nmManagement(files: ReadonlyArray<{ path: string; text: string }>): {
  ifupdownManaged: boolean;
  unmanagedEthernet: boolean;
} {
  let managed: string | undefined;
  let unmanaged: string | undefined;
  for (const { text } of files) {
    const ini = parseIni(text);
    managed = ini.get('ifupdown')?.get('managed')?.at(-1) ?? managed;
    unmanaged = ini.get('keyfile')?.get('unmanaged-devices')?.at(-1) ?? unmanaged;
  }
  const specs = (unmanaged ?? '')
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const covers = specs.some((s) => s === '*' || s === 'type:ethernet' || s === 'interface-name:*');
  const excepted = specs.some((s) => s === 'except:type:ethernet');
  return { ifupdownManaged: /^(true|yes|1)$/i.test(managed ?? ''), unmanagedEthernet: covers && !excepted };
}

/**
 * NetworkManager's config files in the order it reads them:
 * NetworkManager.conf, then the conf.d files of /usr/lib and /etc sorted
 * by name (a file in /etc hides the /usr/lib one of the same name).
 */
export function nmConfigOrder(
  main: string | undefined,
  confD: ReadonlyArray<{ path: string; text: string }>,
): Array<{ path: string; text: string }> {
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  const byName = new Map<string, { path: string; text: string }>();
  for (const file of [...confD].sort((a, b) => Number(a.path.startsWith('/etc/')) - Number(b.path.startsWith('/etc/'))))
    byName.set(base(file.path), file);
  const sorted = [...byName.values()].sort((a, b) => (base(a.path) < base(b.path) ? -1 : base(a.path) > base(b.path) ? 1 : 0));
  return [...(main !== undefined ? [{ path: '/etc/NetworkManager/NetworkManager.conf', text: main }] : []), ...sorted];
}

// --------------------------------------------------------------- netplan ----

/** The global `network: renderer:` of the netplan files (name order, the last one set wins); undefined: networkd, netplan's default. */
export function netplanRenderer(files: ReadonlyArray<{ path: string; text: string }>): string | undefined {
  let renderer: string | undefined;
  for (const { text } of files) {
    try {
      const doc: unknown = parseYaml(text);
      const network = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['network'] : undefined;
      const value = typeof network === 'object' && network !== null ? (network as Record<string, unknown>)['renderer'] : undefined;
      if (typeof value === 'string') renderer = value;
    } catch {
      // An invalid file is reported by the config reader (pin.ts).
    }
  }
  return renderer;
}
