/**
 * Credentials (issue #16 item 8): never sent in clear, never shown, and
 * warned about when they are exposed (a password file other users can read,
 * --insecure). The CLI case (test/integration/credentials.test.ts) runs the
 * built v2v with arguments that fail before any network access.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, UsageError } from '../../src/errors.js';
import { makeEvent } from '../../src/progress/events.js';
import { credentialWarnings } from '../../src/remote/access.js';
import { normalizeRemoteOptions } from '../../src/remote/options.js';
import { redactUrl } from '../../src/text/redact.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'v2v-credentials-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('plain http:// with credentials', () => {
  it('is refused with a user and password in the URL or with -ip, without echoing the password', () => {
    expect(() => normalizeRemoteOptions({}, 'vmx', ['http://bob:hunter2@h/x.vmx'])).toThrow(UsageError);
    expect(() => normalizeRemoteOptions({}, 'vmx', ['http://bob:hunter2@h/x.vmx'])).toThrow(
      'http://bob:***@h/x.vmx would send the user and password in clear text over http://: use https:// (with --ca-file for a private CA).',
    );
    expect(() => normalizeRemoteOptions({ ip: '/pw' }, 'disk', ['http://h/a.img'])).toThrow(/in clear text over http:/);
    expect(() => normalizeRemoteOptions({}, 'disk', ['http://bob@h/a.img'])).toThrow(/in clear text over http:/);
  });
  it('is accepted without credentials, and https:// with them', () => {
    expect(normalizeRemoteOptions({}, 'disk', ['http://h/a.img'])).toMatchObject({ transport: 'https' });
    expect(normalizeRemoteOptions({ ip: '/pw' }, 'disk', ['https://h/a.img'])).toMatchObject({ passwordFile: '/pw' });
  });
});

describe('redaction', () => {
  it('hides passwords with quotes, "@" and ":" whole', () => {
    expect(redactUrl(`https://bob:pa"ss'w@h/x`)).toBe('https://bob:***@h/x');
    expect(redactUrl('see "https://bob:p@ss:w@h/x" now')).toBe('see "https://bob:***@h/x" now');
    expect(redactUrl('ssh://a:b@c/d and https://h/y')).toBe('ssh://a:***@c/d and https://h/y');
  });
  it('applies to every typed error and every event, whoever built the message', () => {
    expect(new SourceError('Cannot open https://bob:hunter2@h/x: fix it.').message).toBe('Cannot open https://bob:***@h/x: fix it.');
    expect(makeEvent({ type: 'warning', message: 'slow https://bob:hunter2@h/x' }).message).toBe('slow https://bob:***@h/x');
  });
});

describe('warnings', () => {
  it('warns about a password file others can read, and not about a private one', async () => {
    const file = path.join(work, 'pw');
    await writeFile(file, 'hunter2\n');
    await chmod(file, 0o644);
    expect(await credentialWarnings({ transport: 'https', passwordFile: file, insecure: false })).toEqual([
      `the password file ${file} can be read by every local user (mode 0644): make it readable only by you with "chmod 600 ${file}"`,
    ]);
    await chmod(file, 0o640);
    expect(await credentialWarnings({ transport: 'ssh', passwordFile: file, insecure: false })).toEqual([
      expect.stringMatching(/can be read by its group \(mode 0640\)/),
    ]);
    await chmod(file, 0o600);
    expect(await credentialWarnings({ transport: 'https', passwordFile: file, insecure: false })).toEqual([]);
  });
  it('warns about --insecure', async () => {
    expect(await credentialWarnings({ transport: 'https', insecure: true })).toEqual([
      expect.stringMatching(/^--insecure: the HTTPS server's certificate is not checked.*--ca-file/),
    ]);
  });
});
