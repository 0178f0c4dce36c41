/**
 * What a command line that only asks loads: each <TAB> starts a v2v process
 * (`v2v --get-yargs-completions v2v WORD...`), and --help and -V are as
 * short-lived, so they must not load what only a run needs: main.ts, the
 * pipeline and its stages, listr2, the drivers and execa (docs/options.md "Shell
 * completion" has the times). Runs the built CLI (npm run build) under a
 * hook that records every module loaded (test/helpers/record-modules.mjs).
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/v2v.js';

/** Modules only a conversion or a subcommand's runner needs. */
const RUN_ONLY =
  /\/dist\/(stages|drivers)\/|\/dist\/src\/run\/(main|pipeline)\.js$|\/dist\/src\/host\/exec\.js$|\/dist\/src\/cli\/(batch\/command|list|verify)\.js$|\/node_modules\/(listr2|execa)\//;

let dir: string;
let runs = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'v2v-cli-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The URLs of the modules `v2v ARGS` loads, and its exit code. */
async function modulesLoaded(...args: string[]): Promise<{ modules: string[]; exitCode: number | undefined }> {
  const log = join(dir, `modules-${++runs}.txt`);
  const hook = join(ROOT, 'test/helpers/record-modules.mjs');
  const result = await execa('node', ['--import', hook, join(ROOT, 'bin/v2v.js'), ...args], {
    reject: false,
    env: { V2V_MODULE_LOG: log },
  });
  return {
    modules: readFileSync(log, 'utf8')
      .split('\n')
      .filter((url) => url !== ''),
    exitCode: result.exitCode,
  };
}

describe('modules loaded by a command line that runs nothing', () => {
  it.each([
    ['<TAB> after -o', ['--get-yargs-completions', 'v2v', '-o', '']],
    ['<TAB> after "v2v"', ['--get-yargs-completions', 'v2v', '']],
    ['<TAB> after "v2v batch --"', ['--get-yargs-completions', 'v2v', 'batch', '--']],
    ['<TAB> after "v2v verify --firmware"', ['--get-yargs-completions', 'v2v', 'verify', '--firmware', '']],
    ['--help', ['--help']],
    ['-V', ['-V']],
    ['batch --help', ['batch', '--help']],
    ['list --help', ['list', '--help']],
    ['verify --help', ['verify', '--help']],
  ])('%s: the CLI and its declarations, nothing a run needs', async (_, args) => {
    const { modules, exitCode } = await modulesLoaded(...args);
    expect(exitCode).toBe(0);
    expect(modules.some((url) => url.endsWith('/dist/src/cli/index.js'))).toBe(true); // the hook saw the CLI load
    expect(modules.filter((url) => RUN_ONLY.test(url))).toEqual([]);
  });

  it('sees the modules of a subcommand that runs (the check above can fail)', async () => {
    const { modules, exitCode } = await modulesLoaded('verify', join(dir, 'missing.xml'));
    expect(exitCode).toBe(2); // cannot read the XML: after the runner and its drivers loaded
    expect(modules.filter((url) => RUN_ONLY.test(url))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\/dist\/src\/cli\/verify\.js$/),
        expect.stringMatching(/\/dist\/drivers\/qemu-img\.js$/),
        expect.stringMatching(/\/node_modules\/execa\//),
      ]),
    );
  });
});
