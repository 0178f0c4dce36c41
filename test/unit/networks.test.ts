import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { SourceNic } from '../../src/model.js';
import { mapNetworks, NO_NETWORK_MAPPING, parseNetworkMapping, type NetworkMapping } from '../../src/output/networks.js';

const nics: SourceNic[] = [
  { mac: '00:50:56:aa:bb:01', model: 'vmxnet3', network: 'VM Network' },
  { mac: '00:50:56:aa:bb:02', model: 'e1000', network: 'Storage' },
  { model: 'e1000e', network: 'DMZ' },
  { mac: '00:50:56:aa:bb:04' },
];

function mapping(overrides: Partial<NetworkMapping>): NetworkMapping {
  return { ...NO_NETWORK_MAPPING, ...overrides };
}

describe('mapNetworks', () => {
  it('puts every NIC on libvirt network "default" when no rule is given, keeping MACs and order', () => {
    expect(mapNetworks(nics, NO_NETWORK_MAPPING, 'virtio')).toEqual([
      { type: 'network', name: 'default', model: 'virtio', mac: '00:50:56:aa:bb:01' },
      { type: 'network', name: 'default', model: 'virtio', mac: '00:50:56:aa:bb:02' },
      { type: 'network', name: 'default', model: 'virtio' },
      { type: 'network', name: 'default', model: 'virtio', mac: '00:50:56:aa:bb:04' },
    ]);
  });

  it('maps by source network name, then the -n default', () => {
    const targets = mapNetworks(nics, mapping({ networks: ['VM Network:lan', 'wan'] }), 'e1000');
    expect(targets.map((t) => `${t.type}:${t.name}`)).toEqual(['network:lan', 'network:wan', 'network:wan', 'network:wan']);
    expect(targets.every((t) => t.model === 'e1000')).toBe(true);
  });

  it('maps to bridges with -b, and mixes -n IN:OUT with a -b default', () => {
    const targets = mapNetworks(nics, mapping({ networks: ['Storage:san'], bridges: ['DMZ:br-dmz', 'br0'] }), 'virtio');
    expect(targets.map((t) => `${t.type}:${t.name}`)).toEqual(['bridge:br0', 'network:san', 'bridge:br-dmz', 'bridge:br0']);
  });

  it('gives --mac precedence over the network name and the default, matching MACs case-insensitively', () => {
    const targets = mapNetworks(
      nics,
      mapping({ networks: ['Storage:san', 'wan'], macs: ['00:50:56:AA:BB:02:bridge:br-fast', '00:50:56:aa:bb:04:network:isolated'] }),
      'virtio',
    );
    expect(targets.map((t) => `${t.type}:${t.name}`)).toEqual(['network:wan', 'bridge:br-fast', 'network:wan', 'network:isolated']);
    expect(targets[1]?.mac).toBe('00:50:56:aa:bb:02');
  });

  it('splits IN:OUT at the first colon and keeps spaces in names', () => {
    expect(mapNetworks([{ network: 'VM Network' }], mapping({ bridges: ['VM Network:br:x'] }), 'virtio')).toEqual([
      { type: 'bridge', name: 'br:x', model: 'virtio' },
    ]);
  });

  it('ignores rules for networks and MACs the source does not have', () => {
    expect(mapNetworks([], mapping({ networks: ['a:b'], macs: ['52:54:00:00:00:01:network:x'] }), 'virtio')).toEqual([]);
  });
});

describe('network option rules', () => {
  const rejects: Array<[string, Partial<NetworkMapping>, RegExp]> = [
    ['an empty -n', { networks: [''] }, /Invalid "-n ": write "-n IN:OUT"/],
    ['-n with an empty IN', { networks: [':lan'] }, /Invalid "-n :lan"/],
    [
      '-b with an empty OUT',
      { bridges: ['VM Network:'] },
      /Invalid "-b VM Network:": write "-b IN:OUT" \(source network IN to bridge OUT\)/,
    ],
    ['two defaults', { networks: ['a'], bridges: ['br0'] }, /"-n a" and "-b br0" both set where unmapped NICs go/],
    ['two -n defaults', { networks: ['a', 'b'] }, /both set where unmapped NICs go/],
    ['the same IN twice across -n and -b', { networks: ['VM Network:a'], bridges: ['VM Network:br0'] }, /"VM Network" is mapped twice/],
    [
      'a malformed MAC',
      { macs: ['00:50:56:aa:bb:network:x'] },
      /Invalid "--mac 00:50:56:aa:bb:network:x": write "--mac 52:54:00:12:34:56:network:NAME"/,
    ],
    ['a bad --mac kind', { macs: ['00:50:56:aa:bb:01:vlan:3'] }, /Invalid|Unsupported/],
    [
      'a --mac ip rule with a bad address',
      { macs: ['00:50:56:aa:bb:01:ip:192.168.1.300'] },
      /Invalid "--mac 00:50:56:aa:bb:01:ip:192.168.1.300": "192.168.1.300" is not an IPv4 or IPv6 address/,
    ],
    ['a --mac without a name', { macs: ['00:50:56:aa:bb:01:bridge:'] }, /the bridge name after "bridge:" is missing/],
    [
      'the same MAC twice',
      { macs: ['00:50:56:aa:bb:01:bridge:a', '00:50:56:AA:BB:01:network:b'] },
      /MAC 00:50:56:aa:bb:01 is mapped twice/,
    ],
  ];
  it.each(rejects)('rejects %s with one UsageError sentence', (_label, raw, message) => {
    const call = (): unknown => parseNetworkMapping(mapping(raw));
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
    // mapNetworks applies the same rules.
    expect(() => mapNetworks(nics, mapping(raw), 'virtio')).toThrow(UsageError);
  });

  it('accepts a full valid set', () => {
    const rules = parseNetworkMapping(mapping({ networks: ['a:b', 'c'], bridges: ['d:br0'], macs: ['52:54:00:12:34:56:network:x'] }));
    expect(rules.fallback).toEqual({ type: 'network', name: 'c' });
    expect([...rules.byName.keys()]).toEqual(['a', 'd']);
    expect(rules.byMac.get('52:54:00:12:34:56')).toEqual({ type: 'network', name: 'x' });
  });
});
