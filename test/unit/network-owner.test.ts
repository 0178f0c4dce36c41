/**
 * Which network system manages a NIC (src/convert/linux/network/owner.ts: the
 * table), the guest facts it is decided on as static-guest.ts reads
 * them (a guest tree on the host, with real links), NetworkManager's and
 * netplan's settings, and cloud-init's network switch
 * (src/convert/linux/network/cloud-init.ts), over the files as distributions ship them.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostGuest } from '../helpers/host-guest.js';
import { cloudInitNetwork } from '../../src/convert/linux/network/cloud-init.js';
import {
  netplanRenderer,
  nmConfigOrder,
  nmManagement,
  ownerOfConfigured,
  ownerOfNew,
  type OwnerFacts,
} from '../../src/convert/linux/network/owner.js';
import { readStaticGuest } from '../../src/convert/linux/network/static-guest.js';
import type { NetConfigKind } from '../../src/convert/linux/network/config.js';

const kinds = (...k: NetConfigKind[]): Set<NetConfigKind> => new Set(k);
const FACTS: OwnerFacts = { installed: {}, nmIfupdownManaged: false, nmManagesNewDevices: false };
const DEBIAN_NM: OwnerFacts = {
  installed: { ifupdown: true, networkmanager: true, netplan: false, networkd: false, ifcfg: false },
  nmIfupdownManaged: false,
  nmManagesNewDevices: true,
};

describe('ownerOfConfigured / ownerOfNew (the table)', () => {
  it('each row of the table for a NIC the config names', () => {
    expect(ownerOfConfigured(kinds('ifupdown', 'networkmanager'), DEBIAN_NM)?.kind).toBe('ifupdown');
    expect(ownerOfConfigured(kinds('ifupdown', 'networkmanager'), { ...DEBIAN_NM, nmIfupdownManaged: true })?.kind).toBe('networkmanager');
    expect(ownerOfConfigured(kinds('networkmanager'), DEBIAN_NM)).toEqual({ kind: 'networkmanager' });
    expect(
      ownerOfConfigured(kinds('netplan', 'networkmanager', 'networkd'), {
        ...FACTS,
        installed: { netplan: true, networkmanager: true, networkd: true },
      }),
    ).toEqual({
      kind: 'netplan',
      why: 'netplan renders the config of the others at boot',
    });
    expect(ownerOfConfigured(kinds('ifcfg', 'networkmanager'), { ...FACTS, installed: { ifcfg: true, networkmanager: true } })?.kind).toBe(
      'networkmanager',
    );
    expect(ownerOfConfigured(kinds('networkd', 'ifupdown'), { ...FACTS, installed: { networkd: true, ifupdown: true } })).toEqual({
      kind: 'networkd',
      why: 'systemd-networkd comes before ifupdown',
    });
    // Not active while something else is: as a NIC with no config.
    expect(ownerOfConfigured(kinds('networkmanager'), { ...FACTS, installed: { networkmanager: false, ifupdown: true } })).toBeUndefined();
    // None of them found active, and nothing else either: the config's own system, first in the order (v2v cannot tell).
    expect(ownerOfConfigured(kinds('ifupdown', 'networkd'), { ...FACTS, installed: { ifupdown: false, networkd: false } })).toEqual({
      kind: 'networkd',
    });
    // Not known (not read): counted as active.
    expect(ownerOfConfigured(kinds('ifupdown', 'networkd'), FACTS)).toEqual({
      kind: 'networkd',
      why: 'systemd-networkd comes before ifupdown',
    });
    expect(
      ownerOfConfigured(kinds('networkmanager', 'ifupdown'), { ...DEBIAN_NM, installed: { ifupdown: true, networkmanager: false } }),
    ).toEqual({
      kind: 'ifupdown',
      why: 'NetworkManager not active in the guest',
    });
  });

  it('each row for a NIC no config names', () => {
    expect(ownerOfNew(kinds('netplan'), { ...DEBIAN_NM, installed: { netplan: true, networkmanager: true } })).toBe('netplan');
    expect(ownerOfNew(kinds('ifupdown'), DEBIAN_NM)).toBe('networkmanager');
    expect(ownerOfNew(kinds('ifupdown'), { ...DEBIAN_NM, nmManagesNewDevices: false })).toBe('ifupdown');
    expect(ownerOfNew(kinds(), { ...FACTS, installed: { ifupdown: true, networkd: true } })).toBe('networkd');
    expect(ownerOfNew(kinds('networkmanager'), { ...FACTS, installed: { networkmanager: false, ifupdown: true } })).toBe('ifupdown');
    expect(ownerOfNew(kinds(), FACTS)).toBeUndefined();
  });
});

describe("NetworkManager's and netplan's settings", () => {
  // Debian 12's /etc/NetworkManager/NetworkManager.conf as the package ships it.
  const DEBIAN_CONF = '[main]\nplugins=ifupdown,keyfile\n\n[ifupdown]\nmanaged=false\n';
  // Ubuntu's /usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf (network-manager).
  const UBUNTU_GLOBAL = '[keyfile]\nunmanaged-devices=*,except:type:wifi,except:type:gsm,except:type:cdma\n';

  it('[ifupdown] managed and unmanaged-devices, a later file overriding an earlier one', () => {
    expect(nmManagement([{ path: 'm', text: DEBIAN_CONF }])).toEqual({ ifupdownManaged: false, unmanagedEthernet: false });
    expect(
      nmManagement([
        { path: 'm', text: DEBIAN_CONF },
        { path: 'c', text: '[ifupdown]\nmanaged=true\n' },
      ]),
    ).toEqual({ ifupdownManaged: true, unmanagedEthernet: false });
    expect(nmManagement([{ path: 'g', text: UBUNTU_GLOBAL }]).unmanagedEthernet).toBe(true);
    // Ubuntu desktop's override: an empty conf.d file of the same name, or ethernet excepted.
    expect(
      nmManagement([
        { path: 'g', text: UBUNTU_GLOBAL },
        { path: 'e', text: '[keyfile]\nunmanaged-devices=*,except:type:ethernet\n' },
      ]).unmanagedEthernet,
    ).toBe(false);
  });

  it('reading order: NetworkManager.conf, then conf.d of /usr/lib and /etc by name, /etc hiding /usr/lib of the same name', () => {
    const order = nmConfigOrder('main', [
      { path: '/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf', text: UBUNTU_GLOBAL },
      { path: '/usr/lib/NetworkManager/conf.d/20-connectivity.conf', text: 'x' },
      { path: '/etc/NetworkManager/conf.d/10-globally-managed-devices.conf', text: '' },
      { path: '/etc/NetworkManager/conf.d/05-a.conf', text: 'y' },
    ]);
    expect(order.map((f) => f.path)).toEqual([
      '/etc/NetworkManager/NetworkManager.conf',
      '/etc/NetworkManager/conf.d/05-a.conf',
      '/etc/NetworkManager/conf.d/10-globally-managed-devices.conf',
      '/usr/lib/NetworkManager/conf.d/20-connectivity.conf',
    ]);
    expect(nmManagement(order).unmanagedEthernet).toBe(false);
  });

  it("netplan's global renderer (Ubuntu desktop's 01-network-manager-all.yaml); none: networkd; invalid YAML ignored", () => {
    const desktop = '# Let NetworkManager manage all devices on this system\nnetwork:\n  version: 2\n  renderer: NetworkManager\n';
    expect(
      netplanRenderer([
        { path: '/etc/netplan/01-network-manager-all.yaml', text: desktop },
        { path: 'b', text: 'network: [' },
      ]),
    ).toBe('NetworkManager');
    expect(netplanRenderer([{ path: 'a', text: 'network:\n  version: 2\n  ethernets: {}\n' }])).toBeUndefined();
  });
});

describe("cloud-init's network switch", () => {
  // Ubuntu's cloud.cfg has no network key; what cloud-init's own generated files tell the user to write.
  const CLOUD_CFG = 'users:\n  - default\ndisable_root: true\ncloud_init_modules:\n  - seed_random\n';
  const DISABLE = 'network: {config: disabled}\n';

  it('on unless the merged config (cloud.cfg, then cloud.cfg.d in order) or the kernel command line turns it off', () => {
    expect(cloudInitNetwork([{ path: '/etc/cloud/cloud.cfg', text: CLOUD_CFG }], '')).toBe('enabled');
    expect(
      cloudInitNetwork(
        [
          { path: '/etc/cloud/cloud.cfg', text: CLOUD_CFG },
          { path: '/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg', text: DISABLE },
        ],
        '',
      ),
    ).toBe('disabled');
    // A later file turning it back on wins; an invalid file sets nothing.
    expect(
      cloudInitNetwork(
        [
          { path: 'a', text: DISABLE },
          { path: 'b', text: 'network:\n  config: {version: 2}\n' },
        ],
        '',
      ),
    ).toBe('enabled');
    expect(
      cloudInitNetwork(
        [
          { path: 'a', text: DISABLE },
          { path: 'b', text: 'network: [' },
        ],
        '',
      ),
    ).toBe('disabled');
    expect(cloudInitNetwork([], 'GRUB_CMDLINE_LINUX="quiet network-config=disabled"\n')).toBe('disabled');
    expect(cloudInitNetwork([], 'GRUB_CMDLINE_LINUX="cloud-init=disabled"\n')).toBe('disabled');
    expect(cloudInitNetwork([], 'GRUB_CMDLINE_LINUX="quiet"\n')).toBe('enabled');
  });
});

// ------------------------------------------------ reading the guest's facts ----

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A guest tree on the host: files by path (a value starting with "-> " is a relative symlink). */
async function guestTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'v2v-netowner-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    if (content.startsWith('-> ')) await symlink(content.slice(3), join(root, path));
    else await writeFile(join(root, path), content);
  }
  return root;
}

const UNIT = '../../../../lib/systemd/system';

describe('readStaticGuest over a guest tree', () => {
  it("Debian 12 with NetworkManager enabled (default conf), ifupdown, cloud-init on, resolv.conf a link to resolved's stub with resolved enabled", async () => {
    const root = await guestTree({
      '/etc/network/interfaces': 'source /etc/network/interfaces.d/*\nauto lo\niface lo inet loopback\n',
      '/sbin/ifup': '',
      '/usr/sbin/NetworkManager': '',
      '/lib/systemd/system/NetworkManager.service': '',
      '/lib/systemd/system/systemd-resolved.service': '',
      '/etc/systemd/system/multi-user.target.wants/NetworkManager.service': `-> ${UNIT}/NetworkManager.service`,
      '/etc/systemd/system/sysinit.target.wants/systemd-resolved.service': `-> ${UNIT}/systemd-resolved.service`,
      '/etc/NetworkManager/NetworkManager.conf': '[main]\nplugins=ifupdown,keyfile\n\n[ifupdown]\nmanaged=false\n',
      '/run/systemd/resolve/stub-resolv.conf': 'nameserver 127.0.0.53\n',
      '/etc/resolv.conf': '-> ../run/systemd/resolve/stub-resolv.conf',
      '/usr/bin/cloud-init': '',
      '/etc/cloud/cloud.cfg': 'users: [default]\n',
      '/etc/cloud/cloud.cfg.d/90_dpkg.cfg': 'datasource_list: [ NoCloud, ConfigDrive, None ]\n',
    });
    const guest = await readStaticGuest(hostGuest(root), [], []);
    expect(guest).toMatchObject({
      installed: { netplan: false, networkmanager: true, ifcfg: false, networkd: false, ifupdown: true },
      nmIfupdownManaged: false,
      nmManagesNewDevices: true,
      ifupdownDns: 'unmanaged',
      networkdDns: 'resolved',
      resolvConfLink: '../run/systemd/resolve/stub-resolv.conf',
      cloudInit: 'enabled',
      ifupdownSources: [{ kind: 'source', path: '/etc/network/interfaces.d/*' }],
    });
    expect(guest.netplanRenderer).toBeUndefined();
  });

  it('Ubuntu server: netplan, NetworkManager installed but not enabled, networkd enabled without resolved and a plain resolv.conf, cloud-init off by a cloud.cfg.d file', async () => {
    const root = await guestTree({
      '/usr/sbin/netplan': '',
      '/usr/sbin/NetworkManager': '',
      '/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf':
        '[keyfile]\nunmanaged-devices=*,except:type:wifi,except:type:gsm,except:type:cdma\n',
      '/lib/systemd/system/systemd-networkd.service': '',
      '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service': `-> ${UNIT}/systemd-networkd.service`,
      '/etc/netplan/50-cloud-init.yaml': 'network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    ens192: {dhcp4: true}\n',
      '/etc/resolv.conf': 'nameserver 10.0.0.1\n',
      '/usr/bin/cloud-init': '',
      '/etc/cloud/cloud.cfg': 'users: [default]\n',
      '/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg': 'network: {config: disabled}\n',
    });
    const guest = await readStaticGuest(hostGuest(root), [], []);
    expect(guest).toMatchObject({
      installed: { netplan: true, networkmanager: false, ifcfg: false, networkd: true, ifupdown: false },
      nmManagesNewDevices: false,
      ifupdownDns: 'file',
      networkdDns: 'file',
      resolvConf: 'nameserver 10.0.0.1\n',
      netplanRenderer: 'networkd',
      cloudInit: 'disabled',
    });
    // cloud-init's whole switch, and no cloud-init at all.
    await writeFile(join(root, '/etc/cloud/cloud.cfg.d/99-disable-network-config.cfg'), '');
    expect((await readStaticGuest(hostGuest(root), [], [])).cloudInit).toBe('enabled');
    await writeFile(join(root, '/etc/cloud/cloud-init.disabled'), '');
    expect((await readStaticGuest(hostGuest(root), [], [])).cloudInit).toBe('disabled');
    await rm(join(root, '/usr/bin/cloud-init'));
    expect((await readStaticGuest(hostGuest(root), [], [])).cloudInit).toBe('absent');
  });

  it("RHEL 9: NetworkManager enabled reads ifcfg files (no initscripts); resolv.conf a link to resolvconf's: networkd's DNS unmanaged", async () => {
    const root = await guestTree({
      '/usr/sbin/NetworkManager': '',
      '/usr/lib/systemd/system/NetworkManager.service': '',
      '/etc/systemd/system/dbus-org.freedesktop.NetworkManager.service': '-> ../../../usr/lib/systemd/system/NetworkManager.service',
      '/etc/sysconfig/network-scripts/readme-ifcfg-rh.txt': '',
      '/run/resolvconf/resolv.conf': '',
      '/etc/resolv.conf': '-> ../run/resolvconf/resolv.conf',
    });
    const guest = await readStaticGuest(hostGuest(root), [], []);
    expect(guest).toMatchObject({
      installed: { networkmanager: true, ifcfg: true, networkd: false, ifupdown: false },
      nmManagesNewDevices: true,
      networkdDns: 'unmanaged',
      resolvConfLink: '../run/resolvconf/resolv.conf',
      cloudInit: 'absent',
    });
  });
});
