import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest, planGuests } from '../../src/cli/batch/manifest.js';
import { preflightGuest } from '../../src/cli/batch/preflight.js';
import { formatSummary, stageLine, type BatchReport } from '../../src/cli/batch/run.js';
import { UsageError } from '../../src/errors.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-batch-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('batch manifest', () => {
  it('turns each entry into the v2v argv a user would type, paths relative to the manifest, name as -on', () => {
    const guests = planGuests(
      {
        guests: [
          {
            name: 'web01',
            input: { mode: 'vmx', paths: ['vms/web01.vmx'] },
            output: { mode: 'local', storage: 'out', format: 'qcow2', name: 'web-01' },
            networks: ['VM Network:default'],
          },
          {
            input: { mode: 'disk', paths: ['/d/a.img', 'b.img'], format: 'raw' },
            output: { mode: 'libvirt', storage: 'pool', connection: 'qemu:///system' },
            bridges: ['br0'],
          },
          { name: 'db', input: { path: 'db.vmx' }, output: { mode: 'qemu', storage: '/q' } },
        ],
      },
      '/m',
    );
    expect(guests.map(({ name, argv, invalid }) => ({ name, argv, invalid }))).toEqual([
      {
        name: 'web01',
        argv: [
          '-i',
          'vmx',
          '/m/vms/web01.vmx',
          '-o',
          'local',
          '-os',
          '/m/out',
          '-of',
          'qcow2',
          '-on',
          'web-01',
          '-n',
          'VM Network:default',
        ],
        invalid: undefined,
      },
      {
        name: 'a',
        argv: [
          '-i',
          'disk',
          '/d/a.img',
          '/m/b.img',
          '-if',
          'raw',
          '-o',
          'libvirt',
          '-os',
          'pool',
          '-oc',
          'qemu:///system',
          '-on',
          'a',
          '-b',
          'br0',
        ],
        invalid: undefined,
      },
      { name: 'db', argv: ['-i', 'vmx', '/m/db.vmx', '-o', 'qemu', '-os', '/q', '-on', 'db'], invalid: undefined },
    ]);
    expect(guests[2]!.options?.output.name).toBe('db');
  });

  it('takes every single-run option: remote sources stay URLs, credential files are relative to the manifest', () => {
    const LOG = join(tmpdir(), `v2v-batch-unit-${process.pid}.log`); // a new file in a directory that exists, as --log-file wants
    const [ssh, https] = planGuests(
      [
        {
          name: 'esx1',
          input: {
            mode: 'vmx',
            paths: ['ssh://root@esxi.example/vmfs/volumes/ds1/g/g.vmx'],
            transport: 'ssh',
            sshIdentity: 'keys/id',
            knownHosts: 'kh',
            bandwidth: '10M',
          },
          output: { mode: 'local', storage: 'out', format: 'qcow2', compressed: true, domainType: 'qemu', noSpaceCheck: true },
          root: 'first',
          virtioWin: 'virtio-win.iso',
          verbose: true,
          logFile: LOG,
        },
        {
          name: 'web',
          input: { paths: ['https://files.example/g.vmx'], caFile: 'ca.pem', passwordFile: 'pw' },
          output: { mode: 'null' },
          noLogFile: true,
        },
      ],
      '/m',
    );
    expect(ssh!.invalid).toBeUndefined();
    expect(ssh!.argv).toEqual([
      '-i',
      'vmx',
      'ssh://root@esxi.example/vmfs/volumes/ds1/g/g.vmx',
      '-it',
      'ssh',
      '--ssh-identity',
      '/m/keys/id',
      '--known-hosts',
      '/m/kh',
      '--bandwidth',
      '10M',
      '-o',
      'local',
      '-os',
      '/m/out',
      '-of',
      'qcow2',
      '-on',
      'esx1',
      '--compressed',
      '--domain-type',
      'qemu',
      '--no-space-check',
      '--root',
      'first',
      '--virtio-win',
      '/m/virtio-win.iso',
      '-v',
      '--log-file',
      LOG,
    ]);
    expect(ssh!.options?.logFile).toEqual({ kind: 'file', path: LOG });
    expect(https!.argv.at(-1)).toBe('--no-log-file');
    expect(https!.options?.logFile).toEqual({ kind: 'none' });
    // A log file whose directory does not exist makes the entry invalid before anything runs, like on the command line.
    const [lost] = planGuests([{ name: 'lost', input: { paths: ['g.vmx'] }, output: { mode: 'null' }, logFile: 'logs/lost.log' }], '/m');
    expect(lost!.invalid).toContain('The directory of --log-file /m/logs/lost.log does not exist');
    expect(ssh!.options?.input.remote).toMatchObject({
      transport: 'ssh',
      identity: '/m/keys/id',
      knownHosts: '/m/kh',
      bandwidth: { rate: '10M' },
    });
    expect(https!.invalid).toBeUndefined();
    expect(https!.options?.input).toMatchObject({
      paths: ['https://files.example/g.vmx'],
      remote: { transport: 'https', caFile: '/m/ca.pem', passwordFile: '/m/pw' },
    });
  });

  it('marks entries the option rules reject as invalid, with the reason', () => {
    const guests = planGuests(
      [
        { name: 'nodir', input: { paths: ['g.vmx'] }, output: { mode: 'local' } },
        { name: 'bad name!', input: { paths: ['g.vmx'] }, output: { mode: 'null' } },
        { name: 'typo', input: { paths: ['g.vmx'] }, output: { mode: 'locl', storage: '/o' } },
      ],
      '/m',
    );
    expect(guests.map((g) => [g.name, g.invalid])).toEqual([
      ['nodir', '-o local needs an output directory: add "-os DIR".'],
      ['guest-2', expect.stringContaining('not usable as a file name')],
      ['typo', 'Unknown output mode "-o locl": did you mean "-o local"? use one of local, libvirt, qemu, json, kubevirt, null.'],
    ]);
  });

  it('refuses unknown keys and wrong types before anything runs, with "did you mean"', () => {
    const refuse = (data: unknown): string => {
      try {
        planGuests(data, '/m');
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse([{ name: 'a', input: { paths: ['g.vmx'] }, output: { mode: 'null' }, virtio_win: '/v' }])).toBe(
      'The manifest is invalid: guest 1 has an unknown key "virtio_win" (did you mean "virtioWin"?); nothing was run.',
    );
    expect(refuse({ guests: [{ input: { paths: ['g.vmx'], transprt: 'ssh' }, output: { mode: 'null', compressed: 'yes' } }] })).toBe(
      'The manifest is invalid: guest 1 "input" has an unknown key "transprt" (did you mean "transport"?); guest 1 "output.compressed" must be a boolean; nothing was run.',
    );
    expect(refuse([{ name: 'noout', input: { paths: ['g.vmx'] } }])).toBe(
      'The manifest is invalid: guest 1 needs "output"; nothing was run.',
    );
    expect(refuse({ guest: [] })).toContain('the top level has an unknown key "guest" (did you mean "guests"?)');
    // The flag's own spelling names the camelCase key, however far apart they are.
    expect(refuse([{ input: { paths: ['g.vmx'] }, output: { mode: 'null', 'no-space-check': true } }])).toBe(
      'The manifest is invalid: guest 1 "output" has an unknown key "no-space-check" (did you mean "noSpaceCheck"?); nothing was run.',
    );
    expect(refuse([{ input: { paths: ['g.vmx'] }, output: { mode: 'null' }, verify: 3 }])).toContain(
      'guest 1 "verify" must be a string or a boolean',
    );
  });

  it('takes the vSphere keys (connection, passwordFile, caFile) and verify', () => {
    const [vm, checked] = planGuests(
      [
        {
          name: 'web01',
          input: { connection: 'esx://root@esxi.example', passwordFile: 'pw', caFile: 'ca.pem', paths: ['web01'] },
          output: { mode: 'local', storage: 'out' },
          verify: 'checksum',
        },
        { input: { paths: ['g.vmx'] }, output: { mode: 'local', storage: 'out' }, verify: true },
      ],
      '/m',
    );
    expect(vm!.invalid).toBeUndefined();
    expect(vm!.argv).toEqual([
      '-i',
      'libvirt',
      'web01',
      '-ic',
      'esx://root@esxi.example',
      '-ip',
      '/m/pw',
      '--ca-file',
      '/m/ca.pem',
      '-o',
      'local',
      '-os',
      '/m/out',
      '-on',
      'web01',
      '--verify=checksum',
    ]);
    expect(vm!.options?.input.vsphere).toMatchObject({ vmName: 'web01', passwordFile: '/m/pw', caFile: '/m/ca.pem' });
    expect(checked!.argv.at(-1)).toBe('--verify');
    expect(checked!.options?.verify).toMatchObject({ checksum: true, boot: true });
  });

  it('refuses an empty manifest and duplicate names', () => {
    expect(() => planGuests({ guests: [] }, '/m')).toThrow(/no guests/);
    const g = { name: 'x', input: { paths: ['g.vmx'] }, output: { mode: 'null' } };
    expect(() => planGuests([g, g], '/m')).toThrow(/appears twice/);
  });

  it('refuses two guests with one logFile before anything runs (a log is never overwritten)', () => {
    const g = (name: string, logFile?: string) => ({
      name,
      input: { paths: ['g.vmx'] },
      output: { mode: 'null' },
      ...(logFile ? { logFile } : {}),
    });
    // Relative paths resolve against the manifest's directory, so these two are one file.
    expect(() => planGuests([g('a', 'logs/run.log'), g('b', '/m/logs/run.log')], '/m')).toThrow(
      'Guests "a" and "b" both have the "logFile" /m/logs/run.log: give each guest its own (or leave it out), nothing was run.',
    );
    expect(
      planGuests([g('a', 'a.log'), g('b', 'b.log'), g('c'), g('d')], '/m').map((p) =>
        p.argv.includes('--log-file') ? p.argv[p.argv.indexOf('--log-file') + 1] : undefined,
      ),
    ).toEqual(['/m/a.log', '/m/b.log', undefined, undefined]);
  });

  it('reads YAML with the yaml package (anchors, flow maps included), relative to the manifest', async () => {
    const file = join(work, 'guests.yaml');
    writeFileSync(
      file,
      [
        '# v2v batch manifest',
        'defaults: &out { mode: local, storage: out, format: qcow2 }',
        'guests:',
        '  - name: "web 01"',
        '    input: { paths: [a.vmx] }',
        '    output: *out',
      ].join('\n'),
    );
    await expect(loadManifest(file)).rejects.toThrow(
      'The manifest ' + file + ' is invalid: the top level has an unknown key "defaults" (known: guests); nothing was run.',
    );
    writeFileSync(
      file,
      [
        'guests:',
        '  - name: web01',
        '    input: { paths: [a.vmx] }',
        '    output: { mode: local, storage: out }',
        '    networks: ["VM Network:default"]',
      ].join('\n'),
    );
    const [guest] = await loadManifest(file);
    expect(guest!.argv).toEqual([
      '-i',
      'vmx',
      join(work, 'a.vmx'),
      '-o',
      'local',
      '-os',
      join(work, 'out'),
      '-on',
      'web01',
      '-n',
      'VM Network:default',
    ]);
    writeFileSync(file, 'guests:\n  - name: [unclosed\n');
    await expect(loadManifest(file)).rejects.toThrow(/^The manifest .* is not valid YAML \(.*\): fix it\.$/);
  });
});

describe('batch preflight (before the first guest starts)', () => {
  it('refuses a missing source file and an output name already taken', async () => {
    mkdirSync(join(work, 'out'), { recursive: true });
    writeFileSync(join(work, 'g.vmx'), 'displayName = "g"\n');
    const [missing, taken, free] = planGuests(
      [
        { name: 'missing', input: { paths: ['nowhere.vmx'] }, output: { mode: 'local', storage: 'out' } },
        { name: 'taken', input: { paths: ['g.vmx'] }, output: { mode: 'local', storage: 'out' } },
        { name: 'free', input: { paths: ['g.vmx'] }, output: { mode: 'local', storage: 'out' } },
      ],
      work,
    );
    writeFileSync(join(work, 'out', 'taken.xml'), 'not ours');
    await expect(preflightGuest(missing!.options!)).rejects.toThrow(
      `The source ${join(work, 'nowhere.vmx')} does not exist: check the path given to -i vmx.`,
    );
    await expect(preflightGuest(taken!.options!)).rejects.toThrow(
      `${join(work, 'out', 'taken.xml')} already exists: remove it, or give the guest another "name" in the manifest.`,
    );
    await expect(preflightGuest(free!.options!)).resolves.toBeUndefined();
  });
  it("knows the metadata file of -o kubevirt (NAME.yaml), and its relative -os is the manifest's directory", async () => {
    mkdirSync(join(work, 'kv'), { recursive: true });
    writeFileSync(join(work, 'g.vmx'), 'displayName = "g"\n');
    const [taken] = planGuests([{ name: 'kv-taken', input: { paths: ['g.vmx'] }, output: { mode: 'kubevirt', storage: 'kv' } }], work);
    expect(taken?.options?.output.storage).toBe(join(work, 'kv'));
    writeFileSync(join(work, 'kv', 'kv-taken.yaml'), 'not ours');
    await expect(preflightGuest(taken!.options!)).rejects.toThrow(`${join(work, 'kv', 'kv-taken.yaml')} already exists`);
  });
  it('shows which stage each running guest is in, from its events', () => {
    expect(stageLine('{"type":"message","stage":"convert","phase":"start","message":"Converting","timestamp":"t"}')).toBe(
      'convert: Converting',
    );
    expect(stageLine('{"type":"message","stage":"convert","phase":"end","message":"Converted","timestamp":"t"}')).toBeUndefined();
    expect(stageLine('{"type":"progress"')).toBeUndefined();
  });
});

describe('batch summary', () => {
  it('is a table with one row per guest and a count line', () => {
    const report: BatchReport = {
      version: 1,
      manifest: '/m/g.json',
      startedAt: '',
      finishedAt: '',
      jobs: 2,
      exitCode: 6,
      guests: [
        { name: 'web01', status: 'converted', exitCode: 0, seconds: 151.2, argv: [], log: '/l/web01.log', files: ['/o/web01-sda'] },
        {
          name: 'db',
          status: 'failed',
          exitCode: 3,
          seconds: 2,
          error: 'The output directory /x does not exist',
          argv: [],
          log: '/l/db.log',
          files: [],
        },
        { name: 'old', status: 'skipped', exitCode: 0, argv: [], files: ['/o/old-sda'] },
      ],
    };
    expect(formatSummary(report)).toBe(
      [
        'GUEST  STATUS     EXIT  TIME     LOG / ERROR',
        'web01  converted  0     151.2 s  /l/web01.log',
        'db     failed     3     2.0 s    The output directory /x does not exist (/l/db.log)',
        'old    skipped    0     -',
        '',
        '1 converted, 1 skipped (already converted), 1 failed.',
      ].join('\n'),
    );
  });
});
