import { describe, expect, it } from 'vitest';
import { unmatchedNetworkRules } from '../../src/output/network-rules-check.js';

const nics = [
  { mac: '00:0c:29:3a:5b:7c', network: 'VM Network' },
  { mac: '00:0c:29:00:00:01', network: 'Storage' },
];

describe('unmatchedNetworkRules', () => {
  it('warns for an IN:OUT rule whose IN is no source network, naming the source networks', () => {
    expect(unmatchedNetworkRules(nics, { networks: ['Typo Net:foo'], bridges: [], macs: [] })).toEqual([
      '"-n Typo Net:foo" matches no NIC (the source\'s networks are "VM Network", "Storage"): check the name before the colon.',
    ]);
    expect(unmatchedNetworkRules(nics, { networks: [], bridges: ['storage:br1'], macs: [] })).toHaveLength(1); // names are case-sensitive, as in the mapping
  });
  it('warns for a --mac rule whose MAC no NIC has', () => {
    expect(unmatchedNetworkRules(nics, { networks: [], bridges: [], macs: ['52:54:00:00:00:01:bridge:br0'] })).toEqual([
      '"--mac 52:54:00:00:00:01:bridge:br0" matches no NIC (the source\'s MACs are 00:0c:29:3a:5b:7c, 00:0c:29:00:00:01): check the address.',
    ]);
  });
  it('is silent for rules that match and for the catch-all OUT', () => {
    expect(
      unmatchedNetworkRules(nics, {
        networks: ['VM Network:default', 'default'],
        bridges: ['Storage:br1'],
        macs: ['00:0C:29:3A:5B:7C:network:x'],
      }),
    ).toEqual([]);
  });
  it('says when the source names no network at all', () => {
    expect(unmatchedNetworkRules([{ mac: '00:0c:29:3a:5b:7c' }], { networks: ['a:b'], bridges: [], macs: [] })[0]).toContain(
      'the source names no network',
    );
  });
});
