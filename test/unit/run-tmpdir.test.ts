/**
 * Every temp dir a run makes is marked with its owner (makeRunTempDir), so a
 * run killed before removing it leaves nothing for good: the next run's
 * reapDeadRuns removes it. Covers the accelerator probe's `v2v-accel-*` and
 * the libvirt output's `v2v-libvirt-*`, which used to be unmarked and in
 * os.tmpdir(), out of the reaper's sight.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDomainXmlFile } from '../../src/output/libvirt.js';
import { parseRunOwner, RUN_ID_ENV, RUN_OWNER_FILE, runIsAlive } from '../../src/host/reaper.js';
import { makeRunTempDir } from '../../src/host/tmpdir.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-run-tmpdir-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The owner file of a run temp dir, parsed. */
function ownerOf(dir: string) {
  return parseRunOwner(readFileSync(join(dir, RUN_OWNER_FILE), 'utf8'));
}

// The helpers read the environment at call time: each test gets its own parent and run id.
const saved = { tmp: process.env['VIRT_V2V_TMPDIR'], runId: process.env[RUN_ID_ENV], path: process.env['PATH'] };
let parent: string;
beforeEach(() => {
  parent = mkdtempSync(join(work, 'parent-'));
  process.env['VIRT_V2V_TMPDIR'] = parent;
  process.env[RUN_ID_ENV] = `${process.pid}-unit0001`;
});
afterEach(() => {
  for (const [key, value] of [
    ['VIRT_V2V_TMPDIR', saved.tmp],
    [RUN_ID_ENV, saved.runId],
    ['PATH', saved.path],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('makeRunTempDir', () => {
  it('makes a 0700 dir in $VIRT_V2V_TMPDIR marked with the run id, this pid and its start time', async () => {
    const dir = await makeRunTempDir('v2v-accel-');
    expect(dirname(dir)).toBe(parent);
    expect(dir).toMatch(/\/v2v-accel-[A-Za-z0-9]{6}$/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const owner = ownerOf(dir);
    expect(owner).toMatchObject({ id: `${process.pid}-unit0001`, pid: process.pid });
    expect(await runIsAlive(owner!)).toBe(true);
  });

  it('marks with a fresh id of this process when there is no run id (v2v verify, library callers)', async () => {
    delete process.env[RUN_ID_ENV];
    const owner = ownerOf(await makeRunTempDir('v2v-verify-', parent));
    expect(owner?.id).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{12}$`));
    expect(owner?.pid).toBe(process.pid);
  });

  it('refuses a prefix the reaper would not look at', async () => {
    await expect(makeRunTempDir('accel-')).rejects.toThrow(/does not start with "v2v-"/);
  });
});

describe('the temp dirs that used to be unmarked', () => {
  it('the libvirt output hands virsh its domain XML from a marked v2v-libvirt-* dir, removed afterwards even on failure', async () => {
    let seen: { dir: string; xml: string; owner: ReturnType<typeof ownerOf> } | undefined;
    await withDomainXmlFile('web01', '<domain/>\n', async (file) => {
      seen = { dir: dirname(file), xml: readFileSync(file, 'utf8'), owner: ownerOf(dirname(file)) };
    });
    expect(dirname(seen!.dir)).toBe(parent);
    expect(seen!.dir).toMatch(/\/v2v-libvirt-[A-Za-z0-9]{6}$/);
    expect(seen!.xml).toBe('<domain/>\n');
    expect(seen!.owner).toMatchObject({ id: `${process.pid}-unit0001`, pid: process.pid });
    expect(existsSync(seen!.dir)).toBe(false);
    let failedDir = '';
    await expect(
      withDomainXmlFile('web01', '<domain/>', async (file) => {
        failedDir = dirname(file);
        throw new Error('virsh define failed');
      }),
    ).rejects.toThrow('virsh define failed');
    expect(existsSync(failedDir)).toBe(false);
  });
});
