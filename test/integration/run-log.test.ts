/**
 * The per-run log file (src/progress/run-log.ts) as the built v2v writes it,
 * with sources that fail in the source stage, before any appliance: kept,
 * named in the error, no password in it; none with --no-log-file; an
 * existing --log-file refused (the rest: test/unit/run-log.test.ts).
 */
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_DIR_ENV } from '../../src/progress/run-log.js';
import { ROOT } from '../helpers/v2v.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-run-log-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the CLI writes the log of a failed run (source stage)', () => {
  async function v2v(logDir: string, ...args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
    const r = await execa('node', [join(ROOT, 'bin/v2v.js'), ...args], {
      reject: false,
      timeout: 30_000,
      env: { [LOG_DIR_ENV]: join(work, logDir) },
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  it('keeps it, names it in the error, and no password given to v2v reaches it', async () => {
    const pw = join(work, 'pw');
    await writeFile(pw, 'sekret-pw-42\n');
    await chmod(pw, 0o600);
    const file = join(work, 'given.log');
    const r = await v2v('cli-unused', '-i', 'vmx', 'https://bob:hunter2@127.0.0.1:1/dir/x.vmx', '-o', 'null', '--log-file', file, '-x');
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^v2v: error: Cannot fetch .*right\\.\nv2v: log: ${file}$`, 'm'));
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^❯ \[\d\d:\d\d:\d\d\] Setting up the source$/m);
    expect(text).toMatch(/^✖ \[\d\d:\d\d:\d\d\] Setting up the source.*\[FAILED: Cannot fetch/m);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] v2v: error: Cannot fetch .*right\.\n$/m);
    expect(text).not.toContain('hunter2');
    await expect(readdir(join(work, 'cli-unused'))).rejects.toThrow(/ENOENT/); // --log-file: nothing in the log directory

    const byFile = await v2v('cli-logs', '-i', 'vmx', 'https://bob@127.0.0.1:1/dir/x.vmx', '-ip', pw, '-o', 'null');
    expect(byFile.exitCode).toBe(4);
    const logs = await readdir(join(work, 'cli-logs'));
    expect(logs).toEqual([expect.stringMatching(/^x-v2v-\d{8}-\d{6}\.log$/)]);
    expect(byFile.stderr.split('\n').at(-1)).toBe(`v2v: log: ${join(work, 'cli-logs', logs[0]!)}`);
    expect(await readFile(join(work, 'cli-logs', logs[0]!), 'utf8')).not.toContain('sekret-pw-42');
  }, 60_000);

  it('writes none with --no-log-file, and refuses an existing --log-file before anything runs', async () => {
    const r = await v2v('cli-none', '-i', 'vmx', 'https://bob@127.0.0.1:1/dir/x.vmx', '-o', 'null', '--no-log-file');
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/^v2v: error: Cannot fetch [^\n]*right\.$/m);
    expect(r.stderr).not.toContain('v2v: log:');
    await expect(readdir(join(work, 'cli-none'))).rejects.toThrow(/ENOENT/);
    const existing = join(work, 'taken.log');
    await writeFile(existing, 'keep me\n');
    const refused = await v2v('cli-none', '-i', 'vmx', join(work, 'missing.vmx'), '-o', 'null', '--log-file', existing);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(
      `v2v: error: --log-file ${existing} already exists: v2v never overwrites a log; remove it or name a new file.`,
    );
    expect(await readFile(existing, 'utf8')).toBe('keep me\n');
  }, 60_000);
});
