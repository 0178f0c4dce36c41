/**
 * Reads what network pinning needs from the guest through the appliance:
 * every interface its network configuration uses (ifupdown and what it
 * sources, ifcfg, NetworkManager keyfiles, netplan, systemd-networkd), its
 * udev flavour, kernel naming and existing pins. Parsing is config.ts'.
 */
import type { Guestfs } from '../../../../drivers/guestfish.js';
import { readOwnerFacts, type GuestOwnerFacts } from './static-guest.js';
import { LINK_DIR, PERSISTENT_NET_RULES, type PinGuest } from './pin-plan.js';
import {
  parseIfcfg,
  parseIfupdown,
  parseLinkFile,
  parseNetplan,
  parseNetworkdNetdev,
  parseNetworkdNetwork,
  parseNmKeyfile,
  parseUdevNetRules,
  globRegExp,
  type ConfiguredInterface,
  type ExistingPin,
} from './config.js';

/** Regular files in a guest directory (sorted), or none when it does not exist. */
async function filesIn(g: Guestfs, dir: string, keep: (name: string) => boolean): Promise<string[]> {
  if (!(await g.exists(dir)) || (await g.call('is-dir', dir)).trim() !== 'true') return [];
  const paths: string[] = [];
  for (const name of (await g.ls(dir)).filter(keep).sort()) {
    const path = `${dir}/${name}`;
    if ((await g.call('is-file', path, 'followsymlinks:true')).trim() === 'true') paths.push(path);
  }
  return paths;
}

/** Backup and package-manager leftovers that no network tool reads. */
const LEFTOVER_RE = /(~|\.bak|\.orig|\.old|\.rpmnew|\.rpmsave|\.dpkg-[a-z]+)$/;

/** /etc/network/interfaces and everything it sources (ifupdown). */
async function readIfupdown(g: Guestfs, path: string, seen: Set<string>, out: ConfiguredInterface[]): Promise<void> {
  if (seen.has(path) || seen.size > 64 || !(await g.exists(path))) return;
  seen.add(path);
  const parsed = parseIfupdown(await g.readFile(path), path);
  out.push(...parsed.interfaces);
  for (const source of parsed.sources) {
    const full = source.path.startsWith('/') ? source.path : `/etc/network/${source.path}`;
    if (source.kind === 'source-directory') {
      // run-parts names only, as ifupdown reads them.
      for (const file of await filesIn(g, full, (n) => /^[A-Za-z0-9_-]+$/.test(n))) await readIfupdown(g, file, seen, out);
      continue;
    }
    const slash = full.lastIndexOf('/');
    const dir = full.slice(0, slash) || '/';
    const pattern = globRegExp(full.slice(slash + 1));
    for (const file of await filesIn(g, dir, (n) => pattern.test(n))) await readIfupdown(g, file, seen, out);
  }
}

/** Every interface the guest's network configuration uses, whichever tool it is for. */
export async function readGuestNetworkConfig(g: Guestfs, warn: (message: string) => void): Promise<ConfiguredInterface[]> {
  const found: ConfiguredInterface[] = [];
  await readIfupdown(g, '/etc/network/interfaces', new Set(), found);
  for (const dir of ['/etc/sysconfig/network-scripts', '/etc/sysconfig/network']) {
    for (const file of await filesIn(g, dir, (n) => n.startsWith('ifcfg-') && n !== 'ifcfg-lo' && !LEFTOVER_RE.test(n))) {
      const entry = parseIfcfg(await g.readFile(file), file);
      if (entry) found.push(entry);
    }
  }
  for (const file of await filesIn(g, '/etc/NetworkManager/system-connections', (n) => !LEFTOVER_RE.test(n))) {
    const entry = parseNmKeyfile(await g.readFile(file), file);
    if (entry) found.push(entry);
  }
  for (const file of await filesIn(g, '/etc/netplan', (n) => /\.ya?ml$/.test(n))) {
    try {
      found.push(...parseNetplan(await g.readFile(file), file));
    } catch (error) {
      warn(
        `${file} is not valid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): its interfaces were not pinned`,
      );
    }
  }
  for (const file of await filesIn(g, LINK_DIR, (n) => n.endsWith('.network') || n.endsWith('.netdev'))) {
    const text = await g.readFile(file);
    if (file.endsWith('.network')) found.push(...parseNetworkdNetwork(text, file));
    else {
      const entry = parseNetworkdNetdev(text, file);
      if (entry) found.push(entry);
    }
  }
  return found;
}

/** What else pinning needs from the guest: its udev, kernel naming and existing pins. */
export async function readPinGuest(g: Guestfs, entries: readonly ConfiguredInterface[]): Promise<PinGuest & { owner: GuestOwnerFacts }> {
  const systemdUdev = (await g.exists('/lib/systemd/systemd-udevd')) || (await g.exists('/usr/lib/systemd/systemd-udevd'));
  const grubDefault = (await g.exists('/etc/default/grub')) ? await g.readFile('/etc/default/grub') : '';
  const existingPins: ExistingPin[] = [];
  for (const file of await filesIn(g, LINK_DIR, (n) => n.endsWith('.link')))
    existingPins.push(...parseLinkFile(await g.readFile(file), file));
  for (const file of await filesIn(g, '/etc/udev/rules.d', (n) => n.endsWith('.rules')))
    existingPins.push(...parseUdevNetRules(await g.readFile(file), file));
  const persistentNetRules = (await g.exists(PERSISTENT_NET_RULES)) ? await g.readFile(PERSISTENT_NET_RULES) : undefined;
  return {
    systemdUdev,
    kernelNames: /(^|[\s"'])net\.ifnames=0(\s|["']|$)/m.test(grubDefault),
    existingPins,
    ...(persistentNetRules !== undefined ? { persistentNetRules } : {}),
    owner: await readOwnerFacts(g, entries),
  };
}
