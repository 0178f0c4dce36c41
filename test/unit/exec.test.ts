/**
 * The exec wrapper's parent-death signal and the run's watchdog, as data:
 * the argv each is run with, and the program lookup that keeps a missing
 * program reported as not installed. (Run for real, on a SIGKILLed stand-in
 * with a direct and a daemonized child: test/integration/reaper.test.ts.)
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError } from '../../src/errors.js';
import { findProgram, guardedCommand, withParentDeathSignal } from '../../src/host/exec.js';
import { WATCHDOG_SCRIPT, watchdogArgs } from '../../src/host/watchdog.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-exec-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('parent-death signal', () => {
  it('wraps the argv in setpriv, which execs the program with its arguments untouched', () => {
    const cmd = { program: '/usr/bin/qemu-img', args: ['convert', '--', '-odd name'], env: { A: '1' } };
    expect(withParentDeathSignal(cmd, '/usr/bin/setpriv')).toEqual({
      program: '/usr/bin/setpriv',
      args: ['--pdeathsig', 'SIGKILL', '--', '/usr/bin/qemu-img', 'convert', '--', '-odd name'],
      env: { A: '1' },
    });
    expect(withParentDeathSignal(cmd, 'setpriv', 'SIGTERM').args.slice(0, 2)).toEqual(['--pdeathsig', 'SIGTERM']);
  });

  it('looks a program up in PATH as exec does: executable regular files only, a name with a slash as it is', () => {
    const bin = join(work, 'bin');
    const other = join(work, 'other');
    for (const dir of [bin, other]) rmSync(dir, { recursive: true, force: true });
    mkdirs(bin, other);
    writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
    writeFileSync(join(other, 'tool'), '#!/bin/sh\n');
    chmodSync(join(other, 'tool'), 0o755);
    writeFileSync(join(bin, 'plain'), 'not executable');
    // The first directory's copy is not executable: the next one's is found.
    expect(findProgram('tool', `${bin}:${other}`)).toBe(join(other, 'tool'));
    expect(findProgram('plain', `${bin}:${other}`)).toBeUndefined();
    expect(findProgram('no-such-program-v2v', `${bin}:${other}`)).toBeUndefined();
    expect(findProgram(join(other, 'tool'), '')).toBe(join(other, 'tool'));
    expect(findProgram(bin, '')).toBeUndefined(); // a directory
  });

  it('refuses a missing program with the not-installed sentence, before anything runs', () => {
    const cmd = { program: 'no-such-program-v2v', args: ['--version'] };
    expect(() => guardedCommand(cmd)).toThrow(CommandError);
    expect(() => guardedCommand(cmd)).toThrow(
      'no-such-program-v2v is not installed: run scripts/setup.sh (or install the package that provides it).',
    );
    // An installed one runs under setpriv (util-linux, always there on Debian), by the name it was given: ps shows "sh -c true".
    expect(guardedCommand({ program: 'sh', args: ['-c', 'true'] })).toEqual({
      program: findProgram('setpriv'),
      args: ['--pdeathsig', 'SIGKILL', '--', 'sh', '-c', 'true'],
    });
  });
});

describe('watchdog', () => {
  it('is a sh that reads one line, exits on "done" and otherwise execs the reaper with the run id and temp parent', () => {
    expect(watchdogArgs('/usr/bin/node', '/v2v/dist/src/host/watchdog-main.js', '123-abc', '/var/tmp')).toEqual([
      '-c',
      WATCHDOG_SCRIPT,
      'v2v-watchdog',
      '/usr/bin/node',
      '/v2v/dist/src/host/watchdog-main.js',
      '123-abc',
      '/var/tmp',
    ]);
    expect(WATCHDOG_SCRIPT).toBe('read -r line; [ "$line" = done ] && exit 0; exec "$@"');
  });
});

function mkdirs(...dirs: string[]): void {
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
}
