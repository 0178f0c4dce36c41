/**
 * Every temp dir a run makes is marked with its owner (makeRunTempDir), so a
 * run killed before removing it leaves nothing for good: the next run's
 * reapDeadRuns removes it. Covers the accelerator probe's `v2v-accel-*` and
 * the libvirt output's `v2v-libvirt-*`, which used to be unmarked and in
 * os.tmpdir(), out of the reaper's sight.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeAccelerator } from '../../drivers/qemu-system.js';
import { parseRunOwner, reapDeadRuns, RUN_ID_ENV, RUN_OWNER_FILE } from '../../src/host/reaper.js';
import { makeRunTempDir } from '../../src/host/tmpdir.js';
import { ROOT } from '../helpers/v2v.js';

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
  it("leaves a dead run's dir to reapDeadRuns, which removes it, and keeps a live run's", async () => {
    // A real crash: a process makes the dir with the built helper, then is SIGKILLed.
    const script = `import { makeRunTempDir } from ${JSON.stringify(join(ROOT, 'dist/src/host/tmpdir.js'))};
      process.stdout.write(await makeRunTempDir('v2v-libvirt-'));
      process.kill(process.pid, 'SIGKILL');`;
    const child = await execa('node', ['--input-type=module', '-e', script], { reject: false, env: { [RUN_ID_ENV]: 'killed-run-1' } });
    expect(child.signal, `${child.stderr}`).toBe('SIGKILL');
    const dead = child.stdout;
    expect(dirname(dead)).toBe(parent);
    expect(ownerOf(dead)?.id).toBe('killed-run-1');
    const live = await makeRunTempDir('v2v-accel-');
    const reaped = await reapDeadRuns(parent);
    expect(reaped).toEqual([{ dir: dead, pids: [] }]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});

describe('the temp dirs that used to be unmarked', () => {
  it('probeAccelerator writes its probe firmware in a marked v2v-accel-* dir, removed afterwards', async () => {
    // A stand-in qemu that records the owner file beside the firmware it is given, then fails.
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    const record = join(work, 'probe-record');
    writeFileSync(
      join(bin, 'qemu-system-x86_64'),
      `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -bios ] && fw=$2; shift; done
dir=$(dirname "$fw")
{ echo "$dir"; cat "$dir/${RUN_OWNER_FILE}"; } > ${record}
exit 3
`,
    );
    chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
    process.env['PATH'] = `${bin}:${saved.path ?? ''}`;
    const check = await probeAccelerator('tcg');
    expect(check).toMatchObject({ usable: false });
    const [dir, ownerLine] = readFileSync(record, 'utf8').split('\n');
    expect(dirname(dir!)).toBe(parent);
    expect(dir).toMatch(/\/v2v-accel-[A-Za-z0-9]{6}$/);
    expect(parseRunOwner(`${ownerLine}\n`)).toMatchObject({ id: `${process.pid}-unit0001`, pid: process.pid });
    expect(existsSync(dir!)).toBe(false);
  });
});
