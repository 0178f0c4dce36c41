/**
 * -o libvirt refuses, in preflight, a -n/-b/--mac network the target
 * lacks: real virsh against libvirt's test driver (test:///default, no daemon,
 * which has an active network "default"); bridges, which need no virsh:
 * test/unit/libvirt-networks.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../src/errors.js';
import { checkTargetNetworks } from '../../src/output/libvirt-networks.js';

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
  it('accepts an existing active network and no rules at all', async () => {
    await checkTargetNetworks(URI, { ...none, networks: ['VM Network:default'] });
    await checkTargetNetworks(URI, none);
  });
  it('refuses a network the target lacks', async () => {
    expect(await failure(checkTargetNetworks(URI, { ...none, networks: ['VM Network:prod'] }))).toBe(
      'The libvirt network "prod" does not exist at test:///default: create it ("virsh net-define"), or map the NICs to an existing one ("virsh net-list --all" lists them).',
    );
  });
});
