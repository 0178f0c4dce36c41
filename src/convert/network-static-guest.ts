/**
 * The guest side of `--mac MAC:ip:...` on Linux (network-static.ts decides):
 * what the plan needs to read from the guest (config file texts, which
 * network systems are installed, how DNS reaches the resolver), and writing
 * the plan's files.
 */
import type { Guestfs } from '../../drivers/guestfish.js';
import { parseIfupdown, type ConfiguredInterface, type ExistingPin } from './network-config.js';
import { IFUPDOWN_MAIN, RESOLV_CONF, RHEL_IFCFG_DIR, SUSE_IFCFG_DIR, type StaticGuest, type StaticPlan } from './network-static.js';

async function anyExists(g: Guestfs, paths: string[]): Promise<boolean> {
  for (const path of paths) if (await g.exists(path)) return true;
  return false;
}

/** How ifupdown's dns-nameservers reach the resolver, and resolv.conf's text when v2v may write it. */
async function readIfupdownDns(g: Guestfs): Promise<Pick<StaticGuest, 'ifupdownDns' | 'resolvConf'>> {
  if (await anyExists(g, ['/sbin/resolvconf', '/usr/sbin/resolvconf'])) return { ifupdownDns: 'hook' };
  if ((await g.call('is-symlink', RESOLV_CONF)).trim() === 'true') {
    const target = (await g.call('readlink', RESOLV_CONF)).trim();
    const resolved = target.includes('systemd/resolve') && (await g.exists('/etc/network/if-up.d/resolved'));
    return { ifupdownDns: resolved ? 'hook' : 'unmanaged' };
  }
  if (!(await g.exists(RESOLV_CONF))) return { ifupdownDns: 'file' };
  return { ifupdownDns: 'file', resolvConf: await g.readFile(RESOLV_CONF) };
}

/** Reads what planStaticIps needs: the texts of the config files, installed network systems, DNS handling. */
export async function readStaticGuest(g: Guestfs, entries: readonly ConfiguredInterface[], existingPins: readonly ExistingPin[]): Promise<StaticGuest> {
  const texts = new Map<string, string>();
  for (const file of new Set([...entries.map((e) => e.file), IFUPDOWN_MAIN])) {
    if (await g.exists(file)) texts.set(file, await g.readFile(file));
  }
  const suse = entries.some((e) => e.file.startsWith(`${SUSE_IFCFG_DIR}/ifcfg-`)) || (await g.exists('/usr/sbin/wicked'));
  if (suse && (await g.exists(SUSE_IFCFG_DIR))) {
    for (const name of (await g.ls(SUSE_IFCFG_DIR)).filter((n) => n.startsWith('ifroute-'))) {
      texts.set(`${SUSE_IFCFG_DIR}/${name}`, await g.readFile(`${SUSE_IFCFG_DIR}/${name}`));
    }
  }
  const installed: StaticGuest['installed'] = {
    netplan: await anyExists(g, ['/usr/sbin/netplan', '/sbin/netplan']),
    networkmanager: await anyExists(g, ['/usr/sbin/NetworkManager', '/sbin/NetworkManager']),
    ifcfg: suse || (await g.exists(`${RHEL_IFCFG_DIR}/ifup-eth`)),
    networkd: await anyExists(g, ['/etc/systemd/system/multi-user.target.wants/systemd-networkd.service', '/etc/systemd/system/dbus-org.freedesktop.network1.service']),
    ifupdown: (await g.exists(IFUPDOWN_MAIN)) && (await anyExists(g, ['/sbin/ifup', '/usr/sbin/ifup'])),
  };
  return {
    installed,
    ifcfgDir: suse ? SUSE_IFCFG_DIR : RHEL_IFCFG_DIR,
    ...(await readIfupdownDns(g)),
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
