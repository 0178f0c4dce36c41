/**
 * Warnings an input found before its load failed reach the user, before the
 * error: the built v2v on a .vmx that fails in the source stage (no
 * appliance, no qemu), piped, with --machine-readable and on a terminal
 * (the inputs themselves: test/unit/input-warnings.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/v2v.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-input-warnings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A file under the test dir with this text; returns its path. */
function file(name: string, text: string): string {
  const path = join(work, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const MEMSIZE_WARNING = /^line 2 of .*: memSize = "lots" is not a positive whole number; it is ignored$/;
/** A .vmx with an unusable memSize (a warning) whose only disk does not exist (the load fails after parsing). */
const missingDiskVmx = file(
  'missing-disk/w.vmx',
  'displayName = "w"\nmemSize = "lots"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "gone.vmdk"\n',
);

/** Runs the built v2v on the missing-disk .vmx with extra arguments and environment. */
async function v2v(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'CI')) as Record<string, string>;
  return execa('node', [join(ROOT, 'bin/v2v.js'), '-i', 'vmx', missingDiskVmx, '-o', 'null', ...args], {
    reject: false,
    extendEnv: false,
    env: { ...base, TMPDIR: work, ...env },
    timeout: 60_000,
  });
}

describe('the CLI shows them before the error', () => {
  it('piped (line renderer): a timestamped warning on stderr, then the error; exit 4', async () => {
    const run = await v2v([]);
    expect(run.exitCode).toBe(4);
    const lines = String(run.stderr).split('\n');
    const warning = lines.findIndex((l) => /^\[\d\d:\d\d:\d\d\] v2v: warning: line 2 of .*memSize = "lots"/.test(l));
    const error = lines.findIndex((l) => /^v2v: error: The disk .*gone\.vmdk .*cannot be read/.test(l));
    expect(warning, String(run.stderr)).toBeGreaterThanOrEqual(0);
    expect(error).toBeGreaterThan(warning);
  });

  it('--machine-readable: a source-stage warning event before the error event and the result', async () => {
    const run = await v2v(['--machine-readable']);
    expect(run.exitCode).toBe(4);
    const events = String(run.stdout)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; message: string; stage?: string });
    const warning = events.findIndex((e) => e.type === 'warning' && MEMSIZE_WARNING.test(e.message));
    const error = events.findIndex((e) => e.type === 'error');
    expect(warning, String(run.stdout)).toBeGreaterThanOrEqual(0);
    expect(events[warning]?.stage).toBe('source');
    expect(error).toBeGreaterThan(warning);
    expect(events.at(-1)?.type).toBe('result');
  });

  it('on a terminal (live renderer, under script(1)): the warning, then the error', async () => {
    const command = [join(ROOT, 'bin/v2v.js'), '-i', 'vmx', missingDiskVmx, '-o', 'null'].map((a) => `'${a}'`).join(' ');
    const run = await execa('script', ['-qec', `node ${command}`, '/dev/null'], {
      reject: false,
      extendEnv: false,
      env: { ...(Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'CI')) as Record<string, string>), TMPDIR: work },
      timeout: 60_000,
    });
    expect(run.exitCode).toBe(4);
    const out = String(run.stdout);
    const warning = out.search(/v2v: warning: line 2 of .*memSize = "lots"/);
    const error = out.search(/v2v: error: The disk .*gone\.vmdk/);
    expect(warning, out).toBeGreaterThanOrEqual(0);
    expect(error).toBeGreaterThan(warning);
    // Once: not again after the error.
    expect(out.slice(error)).not.toMatch(/v2v: warning: line 2/);
  });
});
