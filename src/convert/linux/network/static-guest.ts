/**
 * The guest side of `--mac MAC:ip:...` on Linux (static.ts decides):
 * what the plan needs to read from the guest (config file texts, which
 * network systems are active and what NetworkManager manages, how DNS
 * reaches the resolver, cloud-init), and writing the plan's files.
 */
import type { Guestfs } from '../../../../drivers/guestfish.js';
import { parseIfupdown, type ConfiguredInterface, type ExistingPin } from './config.js';
import { IFUPDOWN_MAIN, RESOLV_CONF, RHEL_IFCFG_DIR, SUSE_IFCFG_DIR, type StaticGuest, type StaticPlan } from './static.js';
import { cloudInitNetwork, type CloudInitNetwork } from './cloud-init.js';
import { netplanRenderer, nmConfigOrder, nmManagement, type OwnerFacts } from './owner.js';

async function anyExists(g: Guestfs, paths: string[]): Promise<boolean> {
  for (const path of paths) if (await g.exists(path)) return true;
  return false;
}

/** Regular files of a guest directory whose names `keep` accepts, sorted; none when it does not exist. */
async function filesIn(g: Guestfs, dir: string, keep: (name: string) => boolean): Promise<string[]> {
  if (!(await g.exists(dir)) || (await g.call('is-dir', dir)).trim() !== 'true') return [];
  const paths: string[] = [];
  for (const name of (await g.ls(dir)).filter(keep).sort()) {
    if ((await g.call('is-file', `${dir}/${name}`, 'followsymlinks:true')).trim() === 'true') paths.push(`${dir}/${name}`);
  }
  return paths;
}

async function readAll(g: Guestfs, paths: string[]): Promise<Array<{ path: string; text: string }>> {
  const files: Array<{ path: string; text: string }> = [];
  for (const path of paths) files.push({ path, text: await g.readFile(path) });
  return files;
}

/** A unit enabled by a link in one of the .wants directories (or an alias link) of /etc/systemd/system. */
async function enabledUnit(g: Guestfs, unit: string, alias?: string): Promise<boolean> {
  const wants = ['multi-user.target.wants', 'sysinit.target.wants', 'network-online.target.wants'].map(
    (d) => `/etc/systemd/system/${d}/${unit}`,
  );
  return anyExists(g, [...wants, ...(alias !== undefined ? [`/etc/systemd/system/${alias}`] : [])]);
}

/** How DNS servers of ifupdown and networkd reach the resolver, and resolv.conf's text when v2v may write it. */
async function readResolver(g: Guestfs): Promise<Pick<StaticGuest, 'ifupdownDns' | 'networkdDns' | 'resolvConf' | 'resolvConfLink'>> {
  const resolvconf = await anyExists(g, ['/sbin/resolvconf', '/usr/sbin/resolvconf']);
  const resolvedEnabled = await enabledUnit(g, 'systemd-resolved.service', 'dbus-org.freedesktop.resolve1.service');
  if ((await g.call('is-symlink', RESOLV_CONF)).trim() === 'true') {
    const target = (await g.call('readlink', RESOLV_CONF)).trim();
    const toResolved = target.includes('systemd/resolve');
    const ifupdownHook = toResolved && (await g.exists('/etc/network/if-up.d/resolved'));
    return {
      ifupdownDns: resolvconf || ifupdownHook ? 'hook' : 'unmanaged',
      networkdDns: resolvedEnabled || toResolved ? 'resolved' : 'unmanaged',
      resolvConfLink: target,
    };
  }
  const resolvConf = (await g.exists(RESOLV_CONF)) ? { resolvConf: await g.readFile(RESOLV_CONF) } : {};
  return { ifupdownDns: resolvconf ? 'hook' : 'file', networkdDns: resolvedEnabled ? 'resolved' : 'file', ...resolvConf };
}

/** NetworkManager: whether it runs, manages ifupdown's devices, and takes devices no config names. */
async function readNetworkManager(g: Guestfs): Promise<{ active: boolean; ifupdownManaged: boolean; unmanagedEthernet: boolean }> {
  const binary = await anyExists(g, ['/usr/sbin/NetworkManager', '/sbin/NetworkManager', '/usr/bin/NetworkManager']);
  const active = binary && (await enabledUnit(g, 'NetworkManager.service', 'dbus-org.freedesktop.NetworkManager.service'));
  const main = '/etc/NetworkManager/NetworkManager.conf';
  const confD = [
    ...(await filesIn(g, '/usr/lib/NetworkManager/conf.d', (n) => n.endsWith('.conf'))),
    ...(await filesIn(g, '/etc/NetworkManager/conf.d', (n) => n.endsWith('.conf'))),
  ];
  const files = nmConfigOrder((await g.exists(main)) ? await g.readFile(main) : undefined, await readAll(g, confD));
  return { active, ...nmManagement(files) };
}

/** cloud-init: absent, or whether its network config is on (cloud-init.ts). */
async function readCloudInit(g: Guestfs): Promise<CloudInitNetwork> {
  if (!(await anyExists(g, ['/usr/bin/cloud-init', '/bin/cloud-init']))) return 'absent';
  if (await g.exists('/etc/cloud/cloud-init.disabled')) return 'disabled';
  const paths = [
    ...((await g.exists('/etc/cloud/cloud.cfg')) ? ['/etc/cloud/cloud.cfg'] : []),
    ...(await filesIn(g, '/etc/cloud/cloud.cfg.d', (n) => n.endsWith('.cfg'))),
  ];
  const cmdline = (await g.exists('/etc/default/grub')) ? await g.readFile('/etc/default/grub') : '';
  return cloudInitNetwork(await readAll(g, paths), cmdline);
}

/** OwnerFacts as read from a guest, with the ifcfg flavour found on the way (SUSE or RHEL). */
export type GuestOwnerFacts = OwnerFacts & { suse: boolean };

/** Which network systems are active and what NetworkManager manages (owner.ts decides with it). */
export async function readOwnerFacts(g: Guestfs, entries: readonly ConfiguredInterface[]): Promise<GuestOwnerFacts> {
  const suse = entries.some((e) => e.file.startsWith(`${SUSE_IFCFG_DIR}/ifcfg-`)) || (await g.exists('/usr/sbin/wicked'));
  const nm = await readNetworkManager(g);
  const installed: OwnerFacts['installed'] = {
    netplan: await anyExists(g, ['/usr/sbin/netplan', '/sbin/netplan']),
    networkmanager: nm.active,
    // NetworkManager reads RHEL's ifcfg files itself (ifcfg-rh), with or without initscripts.
    ifcfg: suse || (await g.exists(`${RHEL_IFCFG_DIR}/ifup-eth`)) || (nm.active && (await g.exists(RHEL_IFCFG_DIR))),
    networkd: await enabledUnit(g, 'systemd-networkd.service', 'dbus-org.freedesktop.network1.service'),
    ifupdown: (await g.exists(IFUPDOWN_MAIN)) && (await anyExists(g, ['/sbin/ifup', '/usr/sbin/ifup'])),
  };
  return { installed, nmIfupdownManaged: nm.ifupdownManaged, nmManagesNewDevices: nm.active && !nm.unmanagedEthernet, suse };
}

/**
 * Reads what planStaticIps needs: the texts of the config files, active
 * network systems (`facts`, when already read), DNS handling, cloud-init.
 */
export async function readStaticGuest(
  g: Guestfs,
  entries: readonly ConfiguredInterface[],
  existingPins: readonly ExistingPin[],
  facts?: GuestOwnerFacts,
): Promise<StaticGuest> {
  const texts = new Map<string, string>();
  for (const file of new Set([...entries.map((e) => e.file), IFUPDOWN_MAIN])) {
    if (await g.exists(file)) texts.set(file, await g.readFile(file));
  }
  const { suse, ...owner } = facts ?? (await readOwnerFacts(g, entries));
  if (suse && (await g.exists(SUSE_IFCFG_DIR))) {
    for (const name of (await g.ls(SUSE_IFCFG_DIR)).filter((n) => n.startsWith('ifroute-'))) {
      texts.set(`${SUSE_IFCFG_DIR}/${name}`, await g.readFile(`${SUSE_IFCFG_DIR}/${name}`));
    }
  }
  const renderer = netplanRenderer(await readAll(g, await filesIn(g, '/etc/netplan', (n) => /\.ya?ml$/.test(n))));
  return {
    ...owner,
    ifcfgDir: suse ? SUSE_IFCFG_DIR : RHEL_IFCFG_DIR,
    ...(await readResolver(g)),
    ...(renderer !== undefined ? { netplanRenderer: renderer } : {}),
    cloudInit: await readCloudInit(g),
    ifupdownSources: parseIfupdown(texts.get(IFUPDOWN_MAIN) ?? '', IFUPDOWN_MAIN).sources,
    texts,
    existingPins,
  };
}

/** Writes the plan's files (directories made, modes set). */
export async function writeStaticPlan(g: Guestfs, plan: StaticPlan): Promise<void> {
  for (const { path, content, mode } of plan.writes) {
    await g.call('mkdir-p', path.slice(0, path.lastIndexOf('/')));
    await g.writeFile(path, content);
    if (mode !== undefined) await g.call('chmod', mode, path);
  }
}
