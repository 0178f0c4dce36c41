/**
 * The command line as a virt-v2v user types it: option order, bundled flags,
 * -V, mode aliases, and v2v's own one-sentence parser errors with "did you
 * mean". Runs the real yargs parser and option rules; no conversion.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { options, usageError } from '../helpers/command-line.js';
import { cli, parseCommandLine } from '../../src/cli/index.js';
import { expandArgv } from '../../src/cli/messages.js';
import { ExitCode } from '../../src/errors.js';
import { packageVersion } from '../../src/cli/capabilities.js';
import { tmpParent } from '../../stages/source.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const guest = join(work, 'guest.vmx');
writeFileSync(guest, 'displayName = "g"\n');

describe('virt-v2v command lines', () => {
  it('-n, -b and --mac take one value and leave the source alone, in any order', async () => {
    const o = await options(
      '-i',
      'vmx',
      '-o',
      'local',
      '-os',
      work,
      '-n',
      'default',
      guest,
      '-b',
      'VM Network:br0',
      '--mac',
      '00:0c:29:3a:5b:7c:network:default',
    );
    expect(o.input.paths).toEqual([guest]);
    expect(o.output.networkMapping).toEqual({
      networks: ['default'],
      bridges: ['VM Network:br0'],
      macs: ['00:0c:29:3a:5b:7c:network:default'],
    });
    const repeated = await options('-o', 'local', '-os', work, '-n', 'a:x', '-n', 'b:y', guest);
    expect(repeated.output.networkMapping.networks).toEqual(['a:x', 'b:y']);
  });
  it('accepts -n with -o null (as virt-v2v), with a warning', async () => {
    const o = await options('-i', 'vmx', '-o', 'null', '-n', 'default', guest);
    expect(o.input.paths).toEqual([guest]);
    expect(o.warnings).toEqual(['-n, -b and --mac do nothing with -o null (nothing is defined): ignored.']);
  });
  it('expands bundled one-letter flags (-vx) and nothing else', async () => {
    expect(expandArgv(['-vx', '-os', '/d', '-of', 'raw', '--machine-readable', 'g.vmx'])).toEqual([
      '-v',
      '-x',
      '-os',
      '/d',
      '-of',
      'raw',
      '--machine-readable=',
      'g.vmx',
    ]);
    const o = await options('-vx', '-o', 'null', guest);
    expect([o.verbose, o.trace]).toEqual([true, true]);
  });
  it('a bare --verify takes no source as its value, before or after the source', async () => {
    expect((await options('-o', 'local', '-os', work, '--verify', guest)).input.paths).toEqual([guest]);
    expect((await options('-o', 'local', '-os', work, '--verify', guest)).verify).toEqual(
      (await options('-o', 'local', '-os', work, guest, '--verify')).verify,
    );
    expect((await options('-o', 'local', '-os', work, '--verify=checksum', guest)).verify).toMatchObject({ checksum: true, boot: false });
  });
  it('runs a virt-v2v vCenter command line: -ic implies -i libvirt, --password-file is -ip, --bandwidth throttles it', async () => {
    const o = await options(
      '-ic',
      'vpx://administrator%40vsphere.local@vc/DC1/esxi1?no_verify=1',
      '--password-file',
      join(work, 'pw'),
      'web01',
      '-o',
      'local',
      '-os',
      work,
      '--bandwidth',
      '10M',
    );
    expect(o.input.mode).toBe('libvirt');
    expect(o.input.paths).toEqual(['web01']);
    expect(o.input.vsphere).toMatchObject({ vmName: 'web01', passwordFile: join(work, 'pw'), bandwidth: { rate: '10M' } });
    expect(o.warnings).toBeUndefined();
  });
  it('prints "v2v X.Y.Z" for -V and --version', async () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['-V', '--version'])
      expect(await parseCommandLine([flag])).toEqual({ kind: 'print', text: `v2v ${packageVersion()}` });
  });
  it('takes -o disk as -o local and -i local as -i disk', async () => {
    const o = await options('-i', 'local', guest, '-o', 'disk', '-os', work);
    expect([o.input.mode, o.output.mode]).toEqual(['disk', 'local']);
  });
  it('takes --password-file as -ip', async () => {
    const o = await options(
      '-o',
      'null',
      '-it',
      'ssh',
      '--password-file',
      join(work, 'pw'),
      'ssh://root@esxi.example/vmfs/volumes/ds1/g/g.vmx',
    );
    expect(o.input.remote?.passwordFile).toBe(join(work, 'pw'));
  });
  it('takes --compressed and -oo compressed for qcow2 only', async () => {
    expect((await options('-o', 'local', '-os', work, '-of', 'qcow2', '--compressed', guest)).output.compressed).toBe(true);
    expect((await options('-o', 'local', '-os', work, '-of', 'qcow2', '-oo', 'compressed', guest)).output.compressed).toBe(true);
    expect(await usageError('-o', 'local', '-os', work, '--compressed', guest)).toBe(
      'Compressed output (--compressed, -oo compressed) needs qcow2: add "-of qcow2".',
    );
    expect(await usageError('-o', 'local', '-os', work, '-oo', 'rhv-cluster=x', guest)).toBe(
      'Unknown output option "-oo rhv-cluster=x": v2v knows -oo compressed and -oo qemu-boot.',
    );
  });
  it('refuses --qemu-boot with the alternative', async () => {
    expect(await usageError('-o', 'qemu', '-os', work, '--qemu-boot', guest)).toMatch(
      /^--qemu-boot \(-oo qemu-boot\) is not supported: convert with "-o qemu -os DIR", then run the script DIR\/NAME\.sh it writes\.$/,
    );
  });
  it('warns and ignores --no-trim and --vmtype, which take a value as in virt-v2v', async () => {
    const o = await options('-o', 'null', '--no-trim', 'all', '--vmtype', 'server', guest);
    expect(o.input.paths).toEqual([guest]);
    expect(o.warnings).toEqual([
      '--no-trim is ignored, as in virt-v2v 2.x: unused blocks are always trimmed before the copy.',
      '--vmtype is ignored, as in virt-v2v 2.x.',
    ]);
  });
  it('passes --bandwidth to a remote source, warns for a local one, checks the value', async () => {
    const remote = await options(
      '-o',
      'null',
      '-it',
      'ssh',
      '--bandwidth',
      '10M',
      '--bandwidth-file',
      'rate',
      'ssh://root@esxi.example/vmfs/volumes/ds1/g/g.vmx',
    );
    expect(remote.input.remote?.bandwidth).toEqual({ rate: '10M', rateFile: join(process.cwd(), 'rate') });
    const local = await options('-o', 'null', '--bandwidth', '10M', guest);
    expect(local.warnings?.[0]).toMatch(/only limit remote/);
    expect(await usageError('-o', 'null', '--bandwidth', '10 Mbit', guest)).toMatch(
      /^Invalid "--bandwidth 10 Mbit": give bits per second, e\.g\. 10M/,
    );
  });
  it('puts overlays under VIRT_V2V_TMPDIR first, then TMPDIR, then /var/tmp', () => {
    expect(tmpParent({ VIRT_V2V_TMPDIR: '/big', TMPDIR: '/t' })).toBe('/big');
    expect(tmpParent({ TMPDIR: '/t' })).toBe('/t');
    expect(tmpParent({})).toBe('/var/tmp');
  });
  it('skips the target space check with --no-space-check only', async () => {
    expect((await options('-o', 'local', '-os', work, guest)).output.spaceCheck).toBeUndefined();
    expect((await options('-o', 'local', '-os', work, '--no-space-check', guest)).output.spaceCheck).toBe(false);
  });
  it('writes type kvm for file outputs unless --domain-type says qemu', async () => {
    expect((await options('-o', 'local', '-os', work, guest)).output.domainType).toBeUndefined();
    expect((await options('-o', 'local', '-os', work, '--domain-type', 'qemu', guest)).output.domainType).toBe('qemu');
    expect(await usageError('-o', 'local', '-os', work, '--domain-type', 'tcg', guest)).toMatch(/^Unknown "--domain-type tcg": use kvm/);
  });
});

describe('shell completion', () => {
  it('prints a bash completion script, and the options it asks for', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
    try {
      expect(await parseCommandLine(['completion'])).toEqual({ kind: 'done' });
      expect(printed.join('\n')).toContain('complete -o bashdefault -o default -F _v2v_yargs_completions v2v');
    } finally {
      log.mockRestore();
    }
    // What the script asks for: test/unit/completion.test.ts.
    const line = await parseCommandLine(['--get-yargs-completions', 'v2v', '--']);
    expect(line.kind).toBe('complete');
    for (const option of ['--network', '--compressed', '--bandwidth', '--no-space-check'])
      expect(line.kind === 'complete' && line.words).toContain(option);
  });
});

describe('parser errors are one sentence with the fix', () => {
  it.each<[string[], string]>([
    [
      ['-o', 'locl', '-os', '/d', 'g.vmx'],
      'Unknown output mode "-o locl": did you mean "-o local"? use one of local, libvirt, qemu, json, kubevirt, null.',
    ],
    [
      ['-i', 'vmxx', '-o', 'null', 'g.vmx'],
      'Unknown input mode "-i vmxx": did you mean "-i vmx"? use one of vmx, disk, libvirtxml, ova, libvirt.',
    ],
    [['-o', 'nowhere', 'g.vmx'], 'Unknown output mode "-o nowhere": use one of local, libvirt, qemu, json, kubevirt, null.'],
    [['--netwrok', 'x', '-o', 'null', 'g.vmx'], 'Unknown option --netwrok: did you mean --network? (see "v2v --help")'],
    [['-oss', '/d', '-o', 'local', 'g.vmx'], 'Unknown option --oss: did you mean -os? (see "v2v --help")'],
    [['--frobnicate', '-o', 'null', 'g.vmx'], 'Unknown option --frobnicate: remove it (see "v2v --help" for the options).'],
    [
      ['-o', 'null', 'g.vmx', '-of', 'vmdk'],
      'Unsupported output format "-of vmdk": use raw or qcow2 (convert the result with qemu-img for other formats).',
    ],
    [
      ['-o', 'null', 'g.vmx', '-of', 'qcow'],
      'Unsupported output format "-of qcow": did you mean "-of qcow2"? use raw or qcow2 (convert the result with qemu-img for other formats).',
    ],
    [['-o', 'null', 'g.vmx', '-oa', 'sparce'], 'Unknown allocation "-oa sparce": did you mean "-oa sparse"? use sparse or preallocated.'],
    [['g.vmx', '-o'], '-o needs a value: give it right after the option (see "v2v --help").'],
    [
      ['-o', 'rhv', 'g.vmx'],
      '-o rhv is not supported by v2v: convert with "-o local -of qcow2 -os DIR" and import the disks and XML with that platform\'s own tools.',
    ],
    [
      ['-ic', 'qemu:///system', 'g', '-o', 'null'],
      '-ic qemu:///system is not a vSphere URI: use vpx://USER@VCENTER/DATACENTER/[CLUSTER/]HOST[?no_verify=1] or esx://USER@ESXI[?no_verify=1] (for a libvirt domain on this host, dump it with "virsh dumpxml" and use -i libvirtxml).',
    ],
    [
      ['-i', 'vmx', '-ic', 'esx://root@esxi', '-ip', 'pw', 'g', '-o', 'null'],
      '-ic only applies to -i libvirt (a vCenter/ESXi source): remove "-i vmx" or -ic.',
    ],
    [
      ['-ic', 'esx://root@esxi', '-o', 'null', 'web01'],
      'A vSphere source needs the password of root: write it to a file readable only by you and pass "-ip FILE".',
    ],
    [
      ['-o', 'null', '-it', 'vddk', 'g.vmx'],
      '-it vddk is not supported: read the guest over SSH ("-it ssh ssh://root@esxi/vmfs/volumes/DS/guest/guest.vmx") or HTTPS (an https:// URL).',
    ],
  ])('%j', async (argv, message) => {
    expect(await usageError(...argv)).toBe(message);
  });
});

describe('exit codes of the command line', () => {
  it('a missing source file is a usage error (2), found before anything runs', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await cli(['-o', 'null', join(work, 'missing.vmx')])).toBe(ExitCode.usage);
      expect(stderr).toHaveBeenCalledWith(
        `v2v: error: The source ${join(work, 'missing.vmx')} does not exist: check the path given to -i vmx.\n`,
      );
      expect(await cli(['--netwrok', 'x', guest])).toBe(ExitCode.usage);
    } finally {
      stderr.mockRestore();
    }
  });
});
