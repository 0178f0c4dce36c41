/**
 * --bandwidth: the rate filter in the nbdkit argv v2v builds (that it really
 * throttles a read: test/integration/bandwidth.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { nbdkitCommand } from '../../drivers/nbdkit.js';

describe('--bandwidth (nbdkit rate filter)', () => {
  it('puts the rate filter and its settings in the nbdkit argv', () => {
    const args = nbdkitCommand('/s', { plugin: 'curl', url: 'https://h/d', rate: '10M', rateFile: '/r' }).args;
    expect(args.slice(0, 8)).toEqual(['-r', '-f', '--exit-with-parent', '-U', '/s', '--filter=rate', '--filter=retry', 'curl']);
    expect(args.slice(-2)).toEqual(['rate=10M', 'rate-file=/r']);
    expect(nbdkitCommand('/s', { plugin: 'curl', url: 'https://h/d' }).args).not.toContain('--filter=rate');
  });
});
