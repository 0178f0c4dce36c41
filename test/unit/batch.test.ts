import { describe, expect, it } from 'vitest';
import { planGuests } from '../../src/batch/manifest.js';
import { formatSummary, type BatchReport } from '../../src/batch/run.js';
import { parseYamlSubset } from '../../src/batch/yaml-subset.js';

describe('batch manifest', () => {
  it('turns each entry into the v2v argv a user would type, paths relative to the manifest', () => {
    const guests = planGuests({
      guests: [
        { name: 'web01', input: { mode: 'vmx', paths: ['vms/web01.vmx'] }, output: { mode: 'local', storage: 'out', format: 'qcow2', name: 'web-01' }, networks: ['VM Network:default'] },
        { input: { mode: 'disk', paths: ['/d/a.img', 'b.img'], format: 'raw' }, output: { mode: 'libvirt', storage: 'pool', connection: 'qemu:///system' }, bridges: ['br0'] },
      ],
    }, '/m');
    expect(guests).toEqual([
      { name: 'web01', argv: ['-i', 'vmx', '/m/vms/web01.vmx', '-o', 'local', '-os', '/m/out', '-of', 'qcow2', '-on', 'web-01', '-n', 'VM Network:default'] },
      { name: 'a', argv: ['-i', 'disk', '/d/a.img', '/m/b.img', '-if', 'raw', '-o', 'libvirt', '-os', 'pool', '-oc', 'qemu:///system', '-b', 'br0'] },
    ]);
  });

  it('accepts a top-level array; marks entries the option rules reject as invalid, with the reason', () => {
    const guests = planGuests([
      { name: 'nodir', input: { paths: ['g.vmx'] }, output: { mode: 'local' } },
      { name: 'noout', input: { paths: ['g.vmx'] } },
      { name: 'bad name!', input: { paths: ['g.vmx'] }, output: { mode: 'null' } },
      'nonsense',
    ], '/m');
    expect(guests.map((g) => [g.name, g.invalid])).toEqual([
      ['nodir', '-o local needs an output directory: add "-os DIR".'],
      ['noout', 'no "output" with a "mode" given'],
      ['guest-3', expect.stringContaining('not usable as a file name')],
      ['guest-4', 'entry 4 is not an object'],
    ]);
  });

  it('refuses an empty manifest and duplicate names', () => {
    expect(() => planGuests({ guests: [] }, '/m')).toThrow(/no guests/);
    const g = { name: 'x', input: { paths: ['g.vmx'] }, output: { mode: 'null' } };
    expect(() => planGuests([g, g], '/m')).toThrow(/appears twice/);
  });
});

describe('YAML subset', () => {
  it('reads maps, sequences, "- key:" items, flow sequences, quotes, scalars and comments', () => {
    const text = [
      '---',
      '# guests',
      'guests:',
      '  - name: "web 01"   # quoted',
      '    input:',
      '      paths: [a.vmx, "b c.vmx"]',
      '    output:',
      "      mode: 'local'",
      '      storage: /out#not-a-comment',
      '    jobs: 2',
      '    ok: true',
      '    none: ~',
      '  - name: db',
      '    macs:',
      '      - 00:0c:29:aa:bb:cc:network:default',
      'empty: []',
    ].join('\n');
    expect(parseYamlSubset(text)).toEqual({
      guests: [
        { name: 'web 01', input: { paths: ['a.vmx', 'b c.vmx'] }, output: { mode: 'local', storage: '/out#not-a-comment' }, jobs: 2, ok: true, none: null },
        { name: 'db', macs: ['00:0c:29:aa:bb:cc:network:default'] },
      ],
      empty: [],
    });
  });

  it('refuses what it does not support, naming the line', () => {
    expect(() => parseYamlSubset('a: &x 1')).toThrow(/line 1: anchors/);
    expect(() => parseYamlSubset('a:\n  b: 1\n c: 2')).toThrow(/line 3/);
    expect(() => parseYamlSubset('a: {b: 1}')).toThrow(/flow maps/);
    expect(() => parseYamlSubset('a: 1\na: 2')).toThrow(/duplicate key "a"/);
  });
});

describe('batch summary', () => {
  it('is a table with one row per guest and a count line', () => {
    const report: BatchReport = {
      version: 1, manifest: '/m/g.json', startedAt: '', finishedAt: '', jobs: 2, exitCode: 6,
      guests: [
        { name: 'web01', status: 'converted', exitCode: 0, seconds: 151.2, argv: [], log: '/l/web01.log', files: ['/o/web01-sda'] },
        { name: 'db', status: 'failed', exitCode: 3, seconds: 2, error: 'The output directory /x does not exist', argv: [], log: '/l/db.log', files: [] },
        { name: 'old', status: 'skipped', exitCode: 0, argv: [], files: ['/o/old-sda'] },
      ],
    };
    expect(formatSummary(report)).toBe([
      'GUEST  STATUS     EXIT  TIME     LOG / ERROR',
      'web01  converted  0     151.2 s  /l/web01.log',
      'db     failed     3     2.0 s    The output directory /x does not exist (/l/db.log)',
      'old    skipped    0     -',
      '',
      '1 converted, 1 skipped (already converted), 1 failed.',
    ].join('\n'));
  });
});
