import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import type { GuestCaps, Inspection, Source, TargetDisk } from '../../src/model.js';
import { buildLauncherScript, launcherArgs, OVMF, shellQuote, type LauncherInput } from '../../src/output/qemu.js';

const NASTY = [
  '',
  'plain',
  'with space',
  "it's",
  '"double"',
  '$HOME',
  '$(touch /tmp/pwned)',
  '`id`',
  'a\\b',
  'new\nline',
  'tab\there',
  '-leading-dash',
  '*?[glob]',
  '; rm -rf ~ #',
  "'''",
  'ünïcødé',
  'comma,separated',
];

const work = mkdtempSync(join(tmpdir(), 'v2v-qemu-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function source(overrides: Partial<Source> = {}): Source {
  return testSource({ name: 'g', memoryMiB: 1024, ...overrides });
}
const inspection = { type: 'linux' } as Inspection;
const tcg: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };

function disk(path: string, format: TargetDisk['format'] = 'raw'): TargetDisk {
  return { overlay: '/tmp/o.qcow2', path, format, virtualSize: 2 ** 30, dev: 'vda' };
}

function launcher(overrides: Partial<LauncherInput> = {}): LauncherInput {
  return {
    name: 'g',
    source: source(),
    inspection,
    caps: tcg,
    targets: [disk('/out/g-sda')],
    varsPath: '/out/g-VARS.fd',
    userNetwork: false,
    ...overrides,
  };
}

describe('shellQuote', () => {
  it.each(NASTY)('round-trips %j through a real sh', (word) => {
    const result = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(word)}`], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(word);
  });
});

describe('qemu launcher script', () => {
  it('is valid sh that checks for OVMF and copies the variable template once, for UEFI guests', () => {
    const script = buildLauncherScript(launcher({ source: source({ firmware: 'uefi' }), varsPath: "/out/it's-VARS.fd" }));
    expect(script.startsWith('#!/bin/sh -\n')).toBe(true);
    expect(script).toContain(`[ -e '/out/it'\\''s-VARS.fd' ] || cp -- ${OVMF.vars} '/out/it'\\''s-VARS.fd'`);
    expect(script).toMatch(/install the ovmf package/);
    expect(spawnSync('sh', ['-n', '-c', script]).status).toBe(0);
  });

  it('passes every argument to qemu exactly, whatever the names (fake qemu on PATH)', () => {
    const dir = join(work, `it's a "dir" $(touch pwned) \`id\`, with,commas\nand a newline`);
    mkdirSync(dir, { recursive: true });
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\nfor a in "$@"; do printf \'%s\\0\' "$a"; done\n');
    chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
    const input = launcher({ name: "g'; rm -rf ~; '", targets: [disk(join(dir, 'g-sda'))] });
    const scriptPath = join(work, 'launch.sh');
    writeFileSync(scriptPath, buildLauncherScript(input), { mode: 0o755 });

    const result = spawnSync(scriptPath, ['-display', 'none'], {
      env: { PATH: `${bin}:${process.env['PATH']}` },
      encoding: 'utf8',
      cwd: work,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const argv = result.stdout.split('\0').slice(0, -1);
    expect(argv).toEqual([...launcherArgs(input).flat(), '-display', 'none']);
    expect(argv).toContain(`file=${dir.replace(/,/g, ',,')}/g-sda,format=raw,if=virtio,discard=unmap`);
    expect(spawnSync('ls', [join(work, 'pwned')]).status).not.toBe(0);
  });
});
