/**
 * The Linux network pinning (src/convert/linux/network/config.ts parsers and
 * src/convert/linux/network/pin.ts decisions) over config files as the
 * distributions write them: ifupdown, RHEL ifcfg, NetworkManager keyfiles,
 * netplan, systemd-networkd, bonds and VLANs, already-pinned guests.
 */
import { describe, expect, it } from 'vitest';
import {
  netmaskToPrefix,
  normalizeMac,
  parseIfcfg,
  parseIfupdown,
  parseLinkFile,
  parseNetplan,
  parseNetworkdNetwork,
  parseNmKeyfile,
  parseUdevNetRules,
} from '../../src/convert/linux/network/config.js';
import type { SourceNic } from '../../src/model.js';
import {
  linkFileContent,
  physicalInterfaces,
  planNetworkPins,
  PERSISTENT_NET_RULES,
  type PinGuest,
} from '../../src/convert/linux/network/pin-plan.js';

const MAC1 = '00:0c:29:3a:5b:7c';
const MAC2 = '00:50:56:aa:bb:02';
const NIC1: SourceNic = { mac: MAC1, model: 'vmxnet3', pciSlot: 192 };
const NIC2: SourceNic = { mac: MAC2, model: 'vmxnet3', pciSlot: 224 };
const SYSTEMD: PinGuest = { systemdUdev: true, kernelNames: false, existingPins: [] };

/** Debian's /etc/network/interfaces as the test fixture has it. */
const DEBIAN_INTERFACES = `# This file describes the network interfaces available on your system
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug ens192
iface ens192 inet static
    address 192.0.2.10/24
    gateway 192.0.2.1
    dns-nameservers 192.0.2.53 198.51.100.53
`;

describe('parsers', () => {
  it('ifupdown: names, static address with gateway and DNS, sourced files', () => {
    const { interfaces, sources } = parseIfupdown(DEBIAN_INTERFACES, '/etc/network/interfaces');
    expect(sources).toEqual([{ kind: 'source', path: '/etc/network/interfaces.d/*' }]);
    expect(interfaces).toEqual([
      {
        file: '/etc/network/interfaces',
        kind: 'ifupdown',
        name: 'ens192',
        virtual: false,
        lowers: [],
        staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '198.51.100.53'] }],
      },
    ]);
  });

  it('ifupdown: old-style netmask, dhcp, and a name only listed on auto', () => {
    const text =
      'auto eth1\nauto ens160\niface ens160 inet static\n  address 198.51.100.7\n  netmask 255.255.255.128\niface ens224 inet dhcp\n';
    const { interfaces } = parseIfupdown(text, 'f');
    expect(interfaces.map((i) => [i.name, i.dhcp ?? false, i.staticIps.map((s) => `${s.address}/${s.prefix}`)])).toEqual([
      ['ens160', false, ['198.51.100.7/25']],
      ['ens224', true, []],
      ['eth1', false, []],
    ]);
  });

  it('ifcfg (RHEL) with HWADDR and DEVICE; the name falls back to the file suffix (SUSE)', () => {
    const rhel = `TYPE=Ethernet
BOOTPROTO=none
NAME=ens192
DEVICE=ens192
HWADDR=00:0C:29:3A:5B:7C
ONBOOT=yes
IPADDR=192.0.2.10
PREFIX=24
GATEWAY=192.0.2.1
DNS1=192.0.2.53
`;
    expect(parseIfcfg(rhel, '/etc/sysconfig/network-scripts/ifcfg-ens192')).toEqual({
      file: '/etc/sysconfig/network-scripts/ifcfg-ens192',
      kind: 'ifcfg',
      name: 'ens192',
      mac: MAC1,
      virtual: false,
      lowers: [],
      staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] }],
    });
    const suse = "BOOTPROTO='static'\nSTARTMODE='auto'\nIPADDR='192.0.2.20/24'\n";
    expect(parseIfcfg(suse, '/etc/sysconfig/network/ifcfg-ens224')).toMatchObject({
      name: 'ens224',
      staticIps: [{ address: '192.0.2.20', prefix: 24 }],
    });
    expect(parseIfcfg('BOOTPROTO=dhcp\nDEVICE=ens160\nNETMASK=255.255.255.0\n', '/x/ifcfg-ens160')).toMatchObject({
      name: 'ens160',
      dhcp: true,
    });
  });

  it('NetworkManager keyfile: interface-name, mac-address (both spellings), ipv4 address1 with gateway', () => {
    const keyfile = `[connection]
id=Wired connection 1
uuid=2d0f6b1e-8c47-4e2a-9f1a-2b3c4d5e6f70
type=ethernet
interface-name=ens192

[ethernet]
mac-address=00:0C:29:3A:5B:7C

[ipv4]
address1=192.0.2.10/24,192.0.2.1
dns=192.0.2.53;
method=manual

[ipv6]
method=auto
`;
    expect(parseNmKeyfile(keyfile, '/etc/NetworkManager/system-connections/ens192.nmconnection')).toEqual({
      file: '/etc/NetworkManager/system-connections/ens192.nmconnection',
      kind: 'networkmanager',
      name: 'ens192',
      mac: MAC1,
      virtual: false,
      lowers: [],
      staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] }],
    });
    expect(normalizeMac('0;12;41;58;91;124;')).toBe(MAC1);
    expect(
      parseNmKeyfile('[connection]\ntype=ethernet\n[ethernet]\nmac-address=0;12;41;58;91;124;\n[ipv4]\nmethod=auto\n', 'f'),
    ).toMatchObject({ mac: MAC1, dhcp: true });
    expect(parseNmKeyfile('[connection]\ntype=ethernet\n[ipv4]\nmethod=auto\n', 'f')).toBeUndefined();
  });

  it('netplan: match by MAC with set-name, match by name, a bare id', () => {
    const yaml = `network:
  version: 2
  renderer: networkd
  ethernets:
    lan:
      match:
        macaddress: "00:0c:29:3a:5b:7c"
      set-name: ens192
      addresses: [192.0.2.10/24]
      routes:
        - to: default
          via: 192.0.2.1
      nameservers:
        addresses: [192.0.2.53]
    second:
      match:
        name: ens224
      dhcp4: true
    ens256:
      dhcp4: yes
    any:
      match:
        name: "en*"
      dhcp4: true
`;
    const parsed = parseNetplan(yaml, '/etc/netplan/50-cloud-init.yaml');
    expect(parsed.map((p) => ({ name: p.name, mac: p.mac, setsName: p.setsName, dhcp: p.dhcp }))).toEqual([
      { name: 'ens192', mac: MAC1, setsName: true, dhcp: undefined },
      { name: 'ens224', mac: undefined, setsName: undefined, dhcp: true },
      { name: 'ens256', mac: undefined, setsName: undefined, dhcp: true },
    ]);
    expect(parsed[0]?.staticIps).toEqual([{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] }]);
    expect(() => parseNetplan('network: [unclosed', 'f')).toThrow();
  });

  it('systemd-networkd .network: Name=, MACAddress=, and Bond=/VLAN= stacked on it', () => {
    const network = `[Match]
Name=ens192

[Network]
Address=192.0.2.10/24
Gateway=192.0.2.1
DNS=192.0.2.53
VLAN=ens192.100
`;
    expect(parseNetworkdNetwork(network, '/etc/systemd/network/10-ens192.network')).toEqual([
      {
        file: '/etc/systemd/network/10-ens192.network',
        kind: 'networkd',
        name: 'ens192',
        virtual: false,
        lowers: [],
        staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] }],
      },
      {
        file: '/etc/systemd/network/10-ens192.network',
        kind: 'networkd',
        name: 'ens192.100',
        virtual: true,
        lowers: ['ens192'],
        staticIps: [],
      },
    ]);
    expect(parseNetworkdNetwork('[Match]\nMACAddress=00:0c:29:3a:5b:7c\n[Network]\nDHCP=yes\n', 'f')).toMatchObject([
      { mac: MAC1, dhcp: true },
    ]);
    expect(parseNetworkdNetwork('[Match]\nName=en*\n[Network]\nDHCP=yes\n', 'f')).toEqual([]);
  });

  it('existing pins: .link files and persistent-net rules', () => {
    expect(parseLinkFile(linkFileContent('ens192', MAC1), 'a.link')).toEqual([{ file: 'a.link', mac: MAC1, name: 'ens192' }]);
    const rules =
      '# PCI device 0x15ad:0x07b0 (vmxnet3)\nSUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="00:0c:29:3a:5b:7c", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"\n';
    expect(parseUdevNetRules(rules, PERSISTENT_NET_RULES)).toEqual([{ file: PERSISTENT_NET_RULES, mac: MAC1, name: 'eth0' }]);
  });

  it('netmaskToPrefix', () => {
    expect([
      netmaskToPrefix('255.255.255.0'),
      netmaskToPrefix('255.255.0.0'),
      netmaskToPrefix('255.0.255.0'),
      netmaskToPrefix('255.255.255.255'),
    ]).toEqual([24, 16, undefined, 32]);
  });
});

describe('bonds and VLANs: the physical member is pinned, not the virtual device', () => {
  it('ifupdown bond over two NICs, and a VLAN on the bond', () => {
    const text = `auto bond0
iface bond0 inet static
    address 192.0.2.30/24
    bond-slaves ens192 ens224
    bond-mode active-backup
auto bond0.100
iface bond0.100 inet static
    address 198.51.100.30/24
    vlan-raw-device bond0
`;
    const physicals = physicalInterfaces(parseIfupdown(text, '/etc/network/interfaces').interfaces);
    expect(physicals.map((p) => [p.name, p.uppers])).toEqual([
      ['ens192', ['bond0', 'bond0.100']],
      ['ens224', ['bond0', 'bond0.100']],
    ]);
    const plan = planNetworkPins(physicals, [NIC1, NIC2], SYSTEMD);
    expect(plan.writes.map((w) => w.path)).toEqual(['/etc/systemd/network/10-v2v-ens192.link', '/etc/systemd/network/10-v2v-ens224.link']);
    expect(plan.reports.map((r) => [r.mac, r.pinned, r.matchedBy, r.names])).toEqual([
      [MAC1, 'ens192', 'pci-slot', ['ens192', 'bond0', 'bond0.100']],
      [MAC2, 'ens224', 'pci-slot', ['ens224', 'bond0', 'bond0.100']],
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('RHEL ifcfg VLAN over a physical NIC named by HWADDR', () => {
    const phys = parseIfcfg('DEVICE=ens192\nHWADDR=00:0c:29:3a:5b:7c\nBOOTPROTO=none\nONBOOT=yes\n', '/n/ifcfg-ens192');
    const vlan = parseIfcfg('DEVICE=ens192.42\nVLAN=yes\nIPADDR=192.0.2.42\nPREFIX=24\n', '/n/ifcfg-ens192.42');
    const physicals = physicalInterfaces([phys!, vlan!]);
    expect(physicals).toEqual([
      {
        name: 'ens192',
        mac: MAC1,
        uppers: ['ens192.42'],
        files: ['/n/ifcfg-ens192', '/n/ifcfg-ens192.42'],
        setsName: false,
        kinds: ['ifcfg'],
        dhcp: false,
        staticIps: [{ address: '192.0.2.42', prefix: 24, dns: [] }],
      },
    ]);
    const plan = planNetworkPins(physicals, [NIC1], SYSTEMD);
    expect(plan.reports[0]).toMatchObject({ mac: MAC1, matchedBy: 'mac', pinned: 'ens192', names: ['ens192', 'ens192.42'] });
  });

  it('netplan bond refers to ethernets by id', () => {
    const yaml = `network:
  ethernets:
    eno1: {match: {macaddress: "00:0c:29:3a:5b:7c"}}
    eno2: {match: {macaddress: "00:50:56:aa:bb:02"}}
  bonds:
    bond0:
      interfaces: [eno1, eno2]
      addresses: [192.0.2.30/24]
`;
    const plan = planNetworkPins(physicalInterfaces(parseNetplan(yaml, 'n.yaml')), [NIC1, NIC2], SYSTEMD);
    // Matched by MAC, without a name of their own: the config applies under any name.
    expect(plan.writes).toEqual([]);
    expect(plan.reports.map((r) => [r.mac, r.matchedBy, r.pinned, r.note])).toEqual([
      [MAC1, 'mac', undefined, 'the config matches this NIC by MAC address: it applies under any name'],
      [MAC2, 'mac', undefined, 'the config matches this NIC by MAC address: it applies under any name'],
    ]);
    expect(plan.reports[0]?.staticIps).toEqual([{ address: '192.0.2.30', prefix: 24, dns: [] }]);
  });
});

describe('matching names to NICs and pinning', () => {
  const debian = physicalInterfaces(parseIfupdown(DEBIAN_INTERFACES, '/etc/network/interfaces').interfaces);

  it('the fixture guest: ens192 → the NIC in slot 192, pinned by a .link file sorted before 99-default.link', () => {
    const plan = planNetworkPins(debian, [NIC1], SYSTEMD);
    expect(plan.writes).toEqual([
      {
        path: '/etc/systemd/network/10-v2v-ens192.link',
        content: expect.stringContaining(`[Match]\nMACAddress=${MAC1}\n\n[Link]\nName=ens192\n`) as unknown,
      },
    ]);
    expect('10-v2v-ens192.link' < '99-default.link').toBe(true);
    expect(plan.reports).toEqual([
      {
        mac: MAC1,
        names: ['ens192'],
        matchedBy: 'pci-slot',
        pinned: 'ens192',
        files: ['/etc/systemd/network/10-v2v-ens192.link'],
        staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '198.51.100.53'] }],
        source: 'guest',
      },
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('an already-pinned guest gets nothing added twice', () => {
    const pinned: PinGuest = {
      ...SYSTEMD,
      existingPins: parseLinkFile(linkFileContent('ens192', MAC1), '/etc/systemd/network/10-v2v-ens192.link'),
    };
    const plan = planNetworkPins(debian, [NIC1], pinned);
    expect(plan.writes).toEqual([]);
    expect(plan.reports[0]).toMatchObject({
      pinned: 'ens192',
      files: [],
      note: 'already pinned by /etc/systemd/network/10-v2v-ens192.link',
    });
    const oldGuest: PinGuest = {
      systemdUdev: false,
      kernelNames: false,
      existingPins: parseUdevNetRules(`ATTR{address}=="${MAC1}", NAME="ens192"\n`, PERSISTENT_NET_RULES),
    };
    expect(planNetworkPins(debian, [NIC1], oldGuest).writes).toEqual([]);
  });

  it('an existing pin giving the NIC another name is left alone, with a warning', () => {
    const guest: PinGuest = { ...SYSTEMD, existingPins: [{ file: '/etc/systemd/network/50-lan.link', mac: MAC1, name: 'lan0' }] };
    const plan = planNetworkPins(debian, [NIC1], guest);
    expect(plan.writes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringContaining("50-lan.link names NIC 1 (00:0c:29:3a:5b:7c) lan0, but the guest's network config uses ens192"),
    ]);
  });

  it('a guest without systemd-udev gets a persistent-net rule, appended to the existing file', () => {
    const existing = '# old rules\nSUBSYSTEM=="net", ATTR{address}=="00:50:56:00:00:99", NAME="eth9"\n';
    const plan = planNetworkPins(debian, [NIC1], {
      systemdUdev: false,
      kernelNames: false,
      existingPins: [],
      persistentNetRules: existing,
    });
    expect(plan.writes).toEqual([
      {
        path: PERSISTENT_NET_RULES,
        content: `${existing}# Added by v2v (conversion to KVM): the names the network config uses.\nSUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${MAC1}", ATTR{type}=="1", NAME="ens192"\n`,
      },
    ]);
    expect(parseUdevNetRules(plan.writes[0]!.content, PERSISTENT_NET_RULES).map((p) => p.name)).toEqual(['eth9', 'ens192']);
  });

  it('two NICs: matched by MAC where the config names one', () => {
    const a = parseNmKeyfile(
      `[connection]\ntype=ethernet\ninterface-name=lan\n[ethernet]\nmac-address=${MAC2}\n[ipv4]\nmethod=auto\n`,
      'a.nmconnection',
    );
    const b = parseNmKeyfile(
      `[connection]\ntype=ethernet\ninterface-name=wan\n[ethernet]\nmac-address=${MAC1}\n[ipv4]\nmethod=auto\n`,
      'b.nmconnection',
    );
    const plan = planNetworkPins(physicalInterfaces([a!, b!]), [NIC1, NIC2], SYSTEMD);
    expect(plan.reports.map((r) => [r.mac, r.pinned, r.matchedBy])).toEqual([
      [MAC1, 'wan', 'mac'],
      [MAC2, 'lan', 'mac'],
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('two NICs and names with neither MAC nor slot: a warning naming the interfaces, no guess', () => {
    const { interfaces } = parseIfupdown('auto lan0\niface lan0 inet dhcp\nauto lan1\niface lan1 inet dhcp\n', '/etc/network/interfaces');
    const plan = planNetworkPins(physicalInterfaces(interfaces), [NIC1, NIC2], SYSTEMD);
    expect(plan.writes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^cannot tell which source NIC the guest's interfaces lan0, lan1 are .*not pinned/),
    ]);
    expect(plan.reports.map((r) => [r.mac, r.names])).toEqual([
      [undefined, ['lan0']],
      [undefined, ['lan1']],
    ]);
  });

  it('one NIC and one name with no slot meaning: the only NIC', () => {
    const { interfaces } = parseIfupdown('allow-hotplug ens33\niface ens33 inet dhcp\n', 'f');
    const plan = planNetworkPins(physicalInterfaces(interfaces), [{ mac: MAC1, model: 'e1000' }], SYSTEMD);
    expect(plan.reports[0]).toMatchObject({ mac: MAC1, matchedBy: 'only-nic', pinned: 'ens33', dhcp: true });
  });

  it('a config MAC no source NIC has: warned, not pinned', () => {
    const entry = parseIfcfg('DEVICE=ens192\nHWADDR=00:50:56:de:ad:00\n', '/n/ifcfg-ens192');
    const plan = planNetworkPins(physicalInterfaces([entry!]), [NIC1], SYSTEMD);
    expect(plan.writes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringContaining('/n/ifcfg-ens192 binds ens192 to MAC 00:50:56:de:ad:00, which no source NIC has'),
    ]);
  });

  it('netplan set-name renames by MAC itself: nothing pinned', () => {
    const yaml =
      'network:\n  ethernets:\n    lan:\n      match: {macaddress: "00:0c:29:3a:5b:7c"}\n      set-name: ens192\n      dhcp4: true\n';
    const plan = planNetworkPins(physicalInterfaces(parseNetplan(yaml, 'n.yaml')), [NIC1], SYSTEMD);
    expect(plan.writes).toEqual([]);
    expect(plan.reports[0]).toMatchObject({ mac: MAC1, matchedBy: 'mac', note: expect.stringContaining('set-name') as unknown });
  });

  it('eth0: not pinned by a .link file (kernel namespace); nothing needed with net.ifnames=0 and one NIC; a udev rule on old guests', () => {
    const { interfaces } = parseIfupdown('auto eth0\niface eth0 inet dhcp\n', 'f');
    const eth0 = physicalInterfaces(interfaces);
    const predictable = planNetworkPins(eth0, [NIC1], SYSTEMD);
    expect(predictable.writes).toEqual([]);
    expect(predictable.warnings).toEqual([expect.stringContaining('kernel name eth0')]);
    const kernelNames = planNetworkPins(eth0, [NIC1], { ...SYSTEMD, kernelNames: true });
    expect(kernelNames.writes).toEqual([]);
    expect(kernelNames.warnings).toEqual([]);
    expect(kernelNames.reports[0]?.note).toContain('net.ifnames=0');
    const old = planNetworkPins(eth0, [NIC1], { systemdUdev: false, kernelNames: false, existingPins: [] });
    expect(old.writes.map((w) => w.path)).toEqual([PERSISTENT_NET_RULES]);
    expect(old.reports[0]?.pinned).toBe('eth0');
  });

  it('one NIC given two names by different configs: warned, none pinned', () => {
    const a = parseIfcfg(`DEVICE=ens192\nHWADDR=${MAC1}\n`, '/n/ifcfg-ens192');
    const b = parseIfcfg(`DEVICE=eth0\nHWADDR=${MAC1}\n`, '/n/ifcfg-eth0');
    const plan = planNetworkPins(physicalInterfaces([a!, b!]), [NIC1], SYSTEMD);
    expect(plan.writes).toEqual([]);
    expect(plan.warnings).toEqual([expect.stringContaining('several names (ens192, eth0)')]);
  });
});
