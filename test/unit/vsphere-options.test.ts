import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { displayVsphereUri, normalizeVsphereOptions, parseVsphereUri } from '../../src/input/vsphere/options.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { planGuests } from '../../src/cli/batch/manifest.js';
import { capabilities } from '../../src/cli/capabilities.js';

describe('parseVsphereUri', () => {
  it('reads a vCenter URI with datacenter, cluster and host, a URL-encoded user and no_verify', () => {
    expect(
      parseVsphereUri('vpx://administrator%40vsphere.local@vcenter.example.com/DC1/Cluster%201/esxi1.example.com?no_verify=1'),
    ).toEqual({
      kind: 'vpx',
      host: 'vcenter.example.com',
      user: 'administrator@vsphere.local',
      path: ['DC1', 'Cluster 1', 'esxi1.example.com'],
      noVerify: true,
    });
  });
  it('reads a vCenter URI without cluster, with a port, verifying TLS by default', () => {
    expect(parseVsphereUri('vpx://root@127.0.0.1:8443/DC0/DC0_H0')).toEqual({
      kind: 'vpx',
      host: '127.0.0.1',
      port: 8443,
      user: 'root',
      path: ['DC0', 'DC0_H0'],
      noVerify: false,
    });
  });
  it('reads an ESXi URI, and no_verify=0', () => {
    expect(parseVsphereUri('esx://root@esxi1?no_verify=0')).toEqual({
      kind: 'esx',
      host: 'esxi1',
      user: 'root',
      path: [],
      noVerify: false,
    });
    expect(parseVsphereUri('ESX://root@[::1]:443?no_verify=1')).toMatchObject({ kind: 'esx', host: '::1', noVerify: true });
  });
  it('shows a URI back without losing the encoding', () => {
    const uri = 'vpx://administrator%40vsphere.local@vc/DC1/Cluster%201/h1?no_verify=1';
    expect(displayVsphereUri(parseVsphereUri(uri))).toBe(uri);
  });
  it.each<[string, RegExp]>([
    ['qemu:///system', /is not a vSphere URI.*-i libvirtxml/],
    ['vpx://root:secret@vc/DC/h', /Do not put the password in the -ic URI vpx:\/\/root:\*\*\*@vc/],
    ['vpx://vc/DC/h', /names no user/],
    ['vpx://root@vc/DC', /names no datacenter and host/],
    ['esx://root@esxi/ha-datacenter', /names only the host/],
    ['esx://root@esxi?no_verify=yes', /no_verify must be 0 or 1/],
    ['esx://root@esxi?transport=http', /"transport" is not supported/],
  ])('rejects %s', (uri, message) => {
    expect(() => parseVsphereUri(uri)).toThrow(UsageError);
    expect(() => parseVsphereUri(uri)).toThrow(message);
  });
  it('never echoes a password it refuses', () => {
    expect(() => parseVsphereUri('vpx://root:hunter2@vc/DC/h')).not.toThrow(/hunter2/);
  });
});

describe('normalizeVsphereOptions', () => {
  const ic = 'vpx://root@vc/DC0/DC0_H0?no_verify=1';
  it('needs -ip and exactly one VM name', () => {
    expect(() => normalizeVsphereOptions(ic, {}, ['vm1'])).toThrow(/needs the password of root: .* "-ip FILE"/);
    expect(() => normalizeVsphereOptions(ic, { ip: 'pw' }, [])).toThrow(/No VM named/);
    expect(() => normalizeVsphereOptions(ic, { ip: 'pw' }, ['a', 'b'])).toThrow(/converts one VM, but 2 were given/);
    expect(normalizeVsphereOptions(ic, { ip: '/pw' }, [], true)).toMatchObject({ vmName: '', passwordFile: '/pw' });
  });
  it('takes --ca-file but not --insecure, nor --ca-file with no_verify=1, nor SSH flags', () => {
    expect(normalizeVsphereOptions('esx://root@h', { ip: '/pw', caFile: '/ca.pem' }, ['vm'])).toEqual({
      uri: { kind: 'esx', host: 'h', user: 'root', path: [], noVerify: false },
      vmName: 'vm',
      passwordFile: '/pw',
      caFile: '/ca.pem',
    });
    expect(() => normalizeVsphereOptions('esx://root@h', { ip: '/pw', insecure: true }, ['vm'])).toThrow(
      /--insecure does not apply to -ic: .*no_verify=1/,
    );
    expect(() => normalizeVsphereOptions(ic, { ip: '/pw', caFile: '/ca.pem' }, ['vm'])).toThrow(/give only one/);
    expect(() => normalizeVsphereOptions(ic, { ip: '/pw', it: 'ssh' }, ['vm'])).toThrow(/-it does not apply to a vSphere source/);
  });
});

describe('normalizeOptions with -ic', () => {
  const raw = { o: 'local', os: '/out', ic: 'vpx://root@vc/DC0/DC0_H0?no_verify=1', remote: { ip: '/pw' }, positional: ['web 01'] };
  it('implies -i libvirt (a virt-v2v command line works unchanged) and keeps the VM name as is', () => {
    const options = normalizeOptions(raw);
    expect(options.input).toEqual({
      mode: 'libvirt',
      paths: ['web 01'],
      vsphere: {
        uri: { kind: 'vpx', host: 'vc', user: 'root', path: ['DC0', 'DC0_H0'], noVerify: true },
        vmName: 'web 01',
        passwordFile: '/pw',
      },
    });
    expect(normalizeOptions({ ...raw, i: 'libvirt' }).input.mode).toBe('libvirt');
  });
  it('refuses -ic with another mode and -i libvirt without -ic', () => {
    expect(() => normalizeOptions({ ...raw, i: 'vmx' })).toThrow(/-ic only applies to -i libvirt/);
    expect(() => normalizeOptions({ ...raw, ic: undefined, i: 'libvirt' })).toThrow(/-i libvirt needs the vCenter or ESXi URI/);
  });
  it('is advertised in the capabilities', () => {
    expect(capabilities('1')).toEqual(expect.arrayContaining(['input:libvirt', 'ic:vpx', 'ic:esx', 'list']));
  });
});

describe('batch manifests with -ic sources', () => {
  it('plan a vSphere VM with -ic, -ip relative to the manifest and the VM name as key', () => {
    const [guest] = planGuests(
      {
        guests: [
          {
            input: { connection: 'vpx://root@vc/DC0/DC0_H0?no_verify=1', passwordFile: 'pw.txt', paths: ['web01.example'] },
            output: { mode: 'local', storage: 'out' },
          },
        ],
      },
      '/m',
    );
    expect(guest).toMatchObject({
      name: 'web01.example',
      // The entry's name is the output name too (-on).
      argv: [
        '-i',
        'libvirt',
        'web01.example',
        '-ic',
        'vpx://root@vc/DC0/DC0_H0?no_verify=1',
        '-ip',
        '/m/pw.txt',
        '-o',
        'local',
        '-os',
        '/m/out',
        '-on',
        'web01.example',
      ],
    });
    expect(guest?.invalid).toBeUndefined();
  });
  it('report a vSphere entry without -ip as invalid, with the command-line rule', () => {
    const [guest] = planGuests([{ name: 'w', input: { connection: 'esx://root@h', paths: ['w'] }, output: { mode: 'null' } }], '/m');
    expect(guest?.invalid).toMatch(/needs the password of root/);
  });
});
