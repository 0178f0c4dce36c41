/**
 * Credentials (issue #16 item 8) through the built v2v, with arguments that
 * fail before any network access: a usage error never echoes a password
 * (the rest: test/unit/credentials.test.ts).
 */
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/v2v.js';

async function v2v(...args: string[]): Promise<{ exitCode: number | undefined; stderr: string }> {
  const r = await execa('node', [path.join(ROOT, 'bin/v2v.js'), ...args], { reject: false, timeout: 30_000 });
  return { exitCode: r.exitCode, stderr: r.stderr };
}

describe('redaction', () => {
  it('a usage error of the CLI never echoes a password', async () => {
    const two = await v2v('-i', 'vmx', 'https://u:hunter2@h/x.vmx', 'https://u:hunter2@h/y.vmx', '-o', 'null');
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('https://u:***@h/x.vmx');
    expect(two.stderr).not.toContain('hunter2');
    const quoted = await v2v('-i', 'vmx', 'https://u:hun"ter2@h/x.vmx', 'https://u:hun"ter2@h/y.vmx', '-o', 'null');
    expect(quoted.exitCode).toBe(2);
    expect(quoted.stderr).not.toContain('ter2');
  }, 60_000);
});
