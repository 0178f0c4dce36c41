/**
 * -o libvirt refuses, in preflight, a -n/-b/--mac bridge the host lacks:
 * the bridges of a /sys/class/net stand-in and of the real one (no virsh
 * runs: a rule naming no network asks libvirt nothing). Networks, with real
 * virsh: test/integration/libvirt-networks.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../src/errors.js';
import { checkTargetNetworks, namedDestinations } from '../../src/output/libvirt-networks.js';

const URI = 'test:///default';
const none = { networks: [], bridges: [], macs: [] };
const work = mkdtempSync(join(tmpdir(), 'v2v-netcheck-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function failure(p: Promise<void>): Promise<string> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreflightError);
  return (error as Error).message;
}

describe('checkTargetNetworks', () => {
  it('lists the destinations the rules name (not the implicit "default")', () => {
    expect(
      namedDestinations({
        networks: ['VM Network:prod', 'lab'],
        bridges: ['Storage:br1'],
        macs: ['00:0c:29:3a:5b:7c:bridge:br2', '00:0c:29:3a:5b:7d:network:prod'],
      }),
    ).toEqual({ networks: ['prod', 'lab'], bridges: ['br1', 'br2'] });
    expect(namedDestinations(none)).toEqual({ networks: [], bridges: [] });
  });
  it('refuses a bridge that does not exist or is no bridge', async () => {
    mkdirSync(join(work, 'eth0'));
    mkdirSync(join(work, 'br0', 'bridge'), { recursive: true });
    await checkTargetNetworks(URI, { ...none, bridges: ['br0'] }, work);
    expect(await failure(checkTargetNetworks(URI, { ...none, bridges: ['VM Network:br9'] }, work))).toBe(
      'The bridge "br9" does not exist on this host: create it, or map the NICs to an existing bridge or a libvirt network (-n).',
    );
    expect(await failure(checkTargetNetworks(URI, { ...none, macs: ['00:0c:29:3a:5b:7c:bridge:eth0'] }, work))).toBe(
      'The host interface "eth0" is not a bridge: map the NICs to a bridge (-b IN:BRIDGE), or to a libvirt network with -n.',
    );
    // The real /sys/class/net: lo exists and is never a bridge.
    expect(await failure(checkTargetNetworks(URI, { ...none, bridges: ['lo'] }))).toMatch(/"lo" is not a bridge/);
  });
});
