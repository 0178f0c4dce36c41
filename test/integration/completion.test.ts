/**
 * Shell completion as bash drives it: the script `v2v completion` prints,
 * sourced in bash with COMP_WORDS/COMP_CWORD set, as bash sets them on <TAB>
 * (the words offered, in-process: test/unit/completion.test.ts). Runs the
 * built CLI.
 */
import { execa } from 'execa';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/v2v.js';

describe('the bash script of "v2v completion"', () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'v2v-completion-'));
    // The script runs "v2v": a v2v on PATH that is the built CLI.
    writeFileSync(join(dir, 'v2v'), `#!/bin/sh\nexec node ${JSON.stringify(join(ROOT, 'bin/v2v.js'))} "$@"\n`);
    chmodSync(join(dir, 'v2v'), 0o755);
    script = (await execa('node', [join(ROOT, 'bin/v2v.js'), 'completion'])).stdout;
    writeFileSync(join(dir, 'v2v-completion.bash'), script);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** COMPREPLY after <TAB> on the line `words` (the last word is the one completed). */
  async function tab(...words: string[]): Promise<string[]> {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const program = `source ${dir}/v2v-completion.bash
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}
_v2v_yargs_completions
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await execa('bash', ['--norc', '--noprofile', '-c', program], {
      env: { PATH: `${dir}:${process.env['PATH'] ?? ''}` },
    });
    return stdout === '' ? [] : stdout.split('\n');
  }

  it('registers itself for v2v with the fallback to file names', async () => {
    expect(script).toContain('complete -o bashdefault -o default -F _v2v_yargs_completions v2v');
    const { stdout } = await execa('bash', ['--norc', '--noprofile', '-c', `source ${dir}/v2v-completion.bash; complete -p v2v`]);
    expect(stdout).toMatch(/-o default .*-F _v2v_yargs_completions v2v/);
  });

  // Each <TAB> starts the built CLI (~0.3 s on this 2-core machine): few cases, the logic is tested above.
  it('completes subcommands, their options, the main options and their values', async () => {
    expect(await tab('v2v', 'ba')).toEqual(['batch']);
    expect(await tab('v2v', 'batch', '--')).toEqual(['--jobs', '--log-dir', '--report', '--version', '--help']);
    expect(await tab('v2v', 'verify', '--firmware', '')).toEqual(['bios', 'uefi']);
    expect(await tab('v2v', 'list', '-i')).toEqual(['-ic', '-ip']);
    expect(await tab('v2v', '-i', 'vmx', 'g.vmx', '-o', 'q')).toEqual(['qemu']);
    expect(await tab('v2v', '--verify', '=', 'ch')).toEqual(['checksum']); // bash splits --verify=ch at "="
  });

  it('leaves COMPREPLY empty where a file goes, so bash completes file names', async () => {
    expect(await tab('v2v', '-o', 'local', '-os', '')).toEqual([]);
    expect(await tab('v2v', 'batch', '')).toEqual([]);
  });
});
