/**
 * Datastore layouts: disks a VM keeps on other datastores or directories.
 * - HTTPS datastore URLs (`/folder/PATH?dcPath=DC&dsName=DS`): names resolve
 *   as on the ESXi host, and a disk on another datastore gets that
 *   datastore's URL; what no URL can name is refused.
 * - `-ic`: each disk's `[DS] path` becomes its own datastore's URL, shown on
 *   a recorded simulator reply with a second disk on another datastore.
 * - SSH: the remote regular-file check and how its answer is read.
 * - `--allow-dir`: its rules, the option table and the batch manifest.
 * The real runs (sshd, the built CLI, conversions) are in
 * test/integration/datastores.test.ts and the end-to-end files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { options, usageError } from '../helpers/command-line.js';
import { notAFileKind, NOT_A_FILE_STATUS, remoteFileCheck } from '../../drivers/ssh.js';
import { parseRetrieveResult, parseSoapReply } from '../../drivers/vsphere-soap.js';
import { parseVmProperties } from '../../drivers/vsphere-vm.js';
import { planGuests, toArgv } from '../../src/cli/batch/manifest.js';
import { SourceError } from '../../src/errors.js';
import { parseAllowDirs } from '../../src/input/options.js';
import { checkLocalSources } from '../../src/input/source-paths.js';
import { diskDatastoreUrl } from '../../src/input/vsphere/inventory.js';
import { qemuArgs } from '../helpers/boot.js';
import { vsphereSource } from '../../src/input/vsphere/source.js';
import { parseVmx } from '../../src/input/vmx/parse.js';
import {
  datastoreUrlParts,
  displayLocation,
  locationPath,
  parseRemoteSource,
  siblingLocation,
  type RemoteLocation,
} from '../../src/remote/url.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-datastores-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The URL a location reads (https) or its display (ssh). */
const where = (loc: RemoteLocation): string => (loc.transport === 'https' ? loc.url : displayLocation(loc));

describe('HTTPS datastore URLs: names resolve as on the ESXi host', () => {
  const vmx = parseRemoteSource('https://root@esxi.example/folder/web01/web01.vmx?dcPath=ha-datacenter&dsName=ds1');

  it('reads the datastore, the datacenter and the path of a /folder URL, and nothing of another URL', () => {
    expect(datastoreUrlParts(new URL('https://h/folder/web%2001/a.vmx?dcPath=DC%201&dsName=ds1'))).toEqual({
      path: 'web 01/a.vmx',
      dsName: 'ds1',
      dcPath: 'DC 1',
    });
    expect(datastoreUrlParts(new URL('https://h/folder/a.vmx?dsName=ds1'))).toEqual({ path: 'a.vmx', dsName: 'ds1' });
    expect(datastoreUrlParts(new URL('https://h/vms/web01/web01.vmx'))).toBeUndefined();
    expect(datastoreUrlParts(new URL('https://h/other/a.vmx?dsName=ds1'))).toBeUndefined();
  });

  it("gives the .vmx the host's path, so its relative names resolve on the datastore", () => {
    expect(locationPath(vmx)).toBe('/vmfs/volumes/ds1/web01/web01.vmx');
    const source = parseVmx(
      [
        'scsi0.present = "TRUE"',
        'scsi0:0.present = "TRUE"',
        'scsi0:0.fileName = "web01.vmdk"',
        'scsi0:1.present = "TRUE"',
        'scsi0:1.fileName = "/vmfs/volumes/ds2/web01/web01_1.vmdk"',
        'scsi0:2.present = "TRUE"',
        'scsi0:2.fileName = "../../ds 3/web01/web01_2.vmdk"',
        'scsi0:3.present = "TRUE"',
        'scsi0:3.fileName = "../web01-logs/logs.vmdk"',
      ].join('\n'),
      locationPath(vmx),
    );
    // As remoteVmxInput resolves them (src/input/remote.ts).
    expect(source.disks.map((d) => where(siblingLocation(vmx, d.path)))).toEqual([
      'https://esxi.example/folder/web01/web01.vmdk?dcPath=ha-datacenter&dsName=ds1',
      'https://esxi.example/folder/web01/web01_1.vmdk?dcPath=ha-datacenter&dsName=ds2',
      'https://esxi.example/folder/web01/web01_2.vmdk?dcPath=ha-datacenter&dsName=ds%203',
      'https://esxi.example/folder/web01-logs/logs.vmdk?dcPath=ha-datacenter&dsName=ds1',
    ]);
  });

  it("resolves a descriptor's extent on the descriptor's own datastore, and keeps the user", () => {
    const descriptor = siblingLocation(vmx, '/vmfs/volumes/ds2/web01/web01_1.vmdk');
    const extent = siblingLocation(descriptor, 'web01_1-flat.vmdk');
    expect(extent).toMatchObject({ transport: 'https', user: 'root' });
    expect(where(extent)).toBe('https://esxi.example/folder/web01/web01_1-flat.vmdk?dcPath=ha-datacenter&dsName=ds2');
    expect(displayLocation(extent)).toBe('https://root@esxi.example/folder/web01/web01_1-flat.vmdk?dcPath=ha-datacenter&dsName=ds2');
  });

  it('keeps a URL without dcPath without one (ESXi defaults it to ha-datacenter)', () => {
    const bare = parseRemoteSource('https://esxi.example/folder/web01/web01.vmx?dsName=ds1');
    expect(where(siblingLocation(bare, '/vmfs/volumes/ds2/x/x.vmdk'))).toBe('https://esxi.example/folder/x/x.vmdk?dsName=ds2');
  });

  it('refuses a name on a datastore UUID, or off the datastores, with the fix', () => {
    // ESXi writes the UUID of another datastore (test/unit/fixtures/vmx/esxi8-rhel9.vmx); dsName takes names only.
    const source = parseVmx(readFileSync(new URL('fixtures/vmx/esxi8-rhel9.vmx', import.meta.url), 'utf8'), locationPath(vmx));
    const uuidDisk = source.disks[1]!.path;
    expect(uuidDisk).toBe('/vmfs/volumes/64f0c2a1-5e7d3b10-9a2c-0050569a1b2c/rhel9/rhel9_1.vmdk');
    expect(() => siblingLocation(vmx, uuidDisk)).toThrow(SourceError);
    expect(() => siblingLocation(vmx, uuidDisk)).toThrow(
      /on the datastore with UUID 64f0c2a1-5e7d3b10-9a2c-0050569a1b2c, which a datastore URL cannot address .*-ic .*-it ssh/,
    );
    expect(() => siblingLocation(vmx, '/etc/shadow')).toThrow(
      /names "\/etc\/shadow", which resolves to \/etc\/shadow, not a file on a datastore .*read the VM over SSH \(-it ssh\)/,
    );
    expect(() => siblingLocation(vmx, '../../../x.vmdk')).toThrow(/resolves to \/vmfs\/x\.vmdk, not a file on a datastore/);
    // A datastore name that merely looks like hex is a name.
    expect(where(siblingLocation(vmx, '/vmfs/volumes/deadbeef/x.vmdk'))).toContain('dsName=deadbeef');
  });

  it('leaves SSH paths and plain HTTPS servers as they were: the server path, relative or absolute', () => {
    const ssh = parseRemoteSource('ssh://root@esxi.example/vmfs/volumes/ds1/web01/web01.vmx');
    expect(where(siblingLocation(ssh, '/vmfs/volumes/ds2/web01/web01_1.vmdk'))).toBe(
      'ssh://root@esxi.example/vmfs/volumes/ds2/web01/web01_1.vmdk',
    );
    expect(where(siblingLocation(ssh, '../../ds2/web01/web01_1.vmdk'))).toBe('ssh://root@esxi.example/vmfs/volumes/ds2/web01/web01_1.vmdk');
    const plain = parseRemoteSource('https://files.example/vms/web01/web01.vmx');
    expect(locationPath(plain)).toBe('/vms/web01/web01.vmx');
    expect(where(siblingLocation(plain, '../web01-data/d.vmdk'))).toBe('https://files.example/vms/web01-data/d.vmdk');
  });
});

describe('-ic: each disk read from its own datastore', () => {
  /**
   * The simulator's recorded reply for the test VM (one disk on LocalDS_0),
   * with a second VirtualDisk added as vSphere lists a disk on another
   * datastore: its own key and unit, `[LocalDS_1] ...` as fileName.
   */
  function twoDatastoreReply(): string {
    const recorded = readFileSync(new URL('fixtures/vsphere/retrieve-vm.xml', import.meta.url), 'utf8');
    const disk = /<device XMLSchema-instance:type="VirtualDisk">.*?<\/device>/.exec(recorded)?.[0];
    if (disk === undefined) throw new Error('the recorded reply has no VirtualDisk');
    const second = disk
      .replace('<key>2000</key>', '<key>2001</key>')
      .replace('<unitNumber>0</unitNumber>', '<unitNumber>1</unitNumber>')
      .replace(
        /\[LocalDS_0\] v2v-fixture-debian12\/v2v-fixture-debian12\.vmdk/,
        '[LocalDS_1] v2v-fixture-debian12/v2v-fixture-debian12_1.vmdk',
      )
      .replace(/LocalDS_0-\d+@folder-5/, 'LocalDS_1-1@folder-5');
    expect(second).not.toBe(disk);
    return recorded.replace(disk, disk + second);
  }

  it('maps [LocalDS_0] and [LocalDS_1] disks to the URLs of their datastores', () => {
    const [obj] = parseRetrieveResult(parseSoapReply(twoDatastoreReply())).objects;
    const vm = parseVmProperties(obj!.obj, obj!.props);
    const source = vsphereSource(vm);
    expect(source.disks.map((d) => [d.controller, d.unit, d.path])).toEqual([
      [0, 0, '[LocalDS_0] v2v-fixture-debian12/v2v-fixture-debian12.vmdk'],
      [0, 1, '[LocalDS_1] v2v-fixture-debian12/v2v-fixture-debian12_1.vmdk'],
    ]);
    const endpoint = { host: '127.0.0.1', port: 8989, noVerify: true };
    const urls = source.disks.map((d) => diskDatastoreUrl(endpoint, 'DC0', vm.name, d.path));
    expect(urls).toEqual([
      'https://127.0.0.1:8989/folder/v2v-fixture-debian12/v2v-fixture-debian12.vmdk?dcPath=DC0&dsName=LocalDS_0',
      'https://127.0.0.1:8989/folder/v2v-fixture-debian12/v2v-fixture-debian12_1.vmdk?dcPath=DC0&dsName=LocalDS_1',
    ]);
    // The flat extent of the second disk's descriptor is read from LocalDS_1 too.
    const extent = siblingLocation({ transport: 'https', url: urls[1]! }, 'v2v-fixture-debian12_1-flat.vmdk');
    expect(where(extent)).toBe(
      'https://127.0.0.1:8989/folder/v2v-fixture-debian12/v2v-fixture-debian12_1-flat.vmdk?dcPath=DC0&dsName=LocalDS_1',
    );
  });

  it('refuses a disk name that is not a datastore path', () => {
    expect(() => diskDatastoreUrl({ host: 'vc', noVerify: false }, 'DC0', 'web01', 'web01.vmdk')).toThrow(
      /The VM "web01" names the disk "web01\.vmdk", which is not a datastore path/,
    );
  });
});

describe('SSH: the regular-file check on the server', () => {
  it('tests the quoted path as a regular file first, then names what it is', () => {
    const check = remoteFileCheck("/vmfs/volumes/ds2/it's/x.vmdk");
    expect(check.startsWith(`f='/vmfs/volumes/ds2/it'\\''s/x.vmdk'; if [ -f "$f" ]; then k=; `)).toBe(true);
    for (const op of ['-d', '-p', '-c', '-b', '-S', '-e']) expect(check).toContain(`elif [ ${op} "$f" ]`);
    expect(check).toContain(`exit ${NOT_A_FILE_STATUS}`);
  });
  it("reads the check's answer, and only that answer", () => {
    expect(notAFileKind(NOT_A_FILE_STATUS, 'v2v-not-a-file: a FIFO')).toBe('a FIFO');
    expect(notAFileKind(NOT_A_FILE_STATUS, 'some banner\nv2v-not-a-file: missing')).toBe('missing');
    // ssh's own failure (255) or another program's stderr is not the check's answer.
    expect(notAFileKind(255, 'v2v-not-a-file: a FIFO')).toBeUndefined();
    expect(notAFileKind(NOT_A_FILE_STATUS, 'head: cannot open')).toBeUndefined();
  });
});

describe('--allow-dir', () => {
  it('is repeatable, made absolute, given to a local -i vmx only', async () => {
    const o = await options('-i', 'vmx', '/ds1/g/g.vmx', '--allow-dir', '/vmfs/volumes/ds2', '--allow-dir', 'rel/dir', '-o', 'null');
    expect(o.input.allowDirs).toEqual(['/vmfs/volumes/ds2', join(process.cwd(), 'rel/dir')]);
    expect((await options('-i', 'vmx', '/ds1/g/g.vmx', '-o', 'null')).input.allowDirs).toBeUndefined();
  });

  it('is refused, with the reason, where it cannot apply', async () => {
    expect(await usageError('-i', 'disk', '/d.img', '--allow-dir', '/x', '-o', 'null')).toBe(
      '--allow-dir only applies to -i vmx (the disks a local .vmx names): remove it (-i disk names its disks itself).',
    );
    expect(await usageError('-i', 'ova', '/g.ova', '--allow-dir', '/x', '-o', 'null')).toMatch(/reads only files inside the OVA/);
    expect(
      await usageError('-i', 'vmx', '-it', 'ssh', 'ssh://root@esxi/vmfs/volumes/ds1/g/g.vmx', '--allow-dir', '/x', '-o', 'null'),
    ).toMatch(/^--allow-dir names directories of this host, for a local \.vmx: remove it/);
    expect(await usageError('-i', 'vmx', '/g.vmx', '--allow-dir', '', '-o', 'null')).toMatch(/^--allow-dir needs a directory/);
    expect(() => parseAllowDirs(['/x'], 'libvirtxml', false)).toThrow(/only applies to -i vmx/);
    expect(parseAllowDirs(['/x', '/x/', '/y'], 'vmx', false)).toEqual(['/x', '/y']);
  });

  it('must name existing directories (exit 2, before anything runs)', async () => {
    const vmx = join(work, 'g.vmx');
    writeFileSync(vmx, 'displayName = "g"\n');
    const dir = join(work, 'ds2');
    mkdirSync(dir);
    const check = (allowDirs: string[]) => checkLocalSources({ mode: 'vmx', paths: [vmx], allowDirs });
    await expect(check([dir])).resolves.toBeUndefined();
    await expect(check([join(work, 'nope')])).rejects.toThrow(`--allow-dir ${join(work, 'nope')} does not exist: name the directory`);
    await expect(check([vmx])).rejects.toThrow(`--allow-dir ${vmx} is not a directory`);
  });

  it('is a batch manifest key (input.allowDirs, relative to the manifest) that becomes --allow-dir', () => {
    const [guest] = planGuests(
      [{ name: 'web01', input: { paths: ['ds1/web01.vmx'], allowDirs: ['ds2', '/vmfs/volumes/ds3'] }, output: { mode: 'null' } }],
      '/m',
    );
    expect(guest?.invalid).toBeUndefined();
    expect(guest?.options?.input.allowDirs).toEqual(['/m/ds2', '/vmfs/volumes/ds3']);
    expect(guest?.argv.join(' ')).toContain('-i vmx /m/ds1/web01.vmx --allow-dir /m/ds2 --allow-dir /vmfs/volumes/ds3 ');
    expect(toArgv({ positional: ['/g.vmx'], o: 'null' })).toEqual(['-i', 'vmx', '/g.vmx', '-o', 'null']);
  });
});

describe('the boot helper', () => {
  it('attaches data disks after the boot disk, each on virtio-blk with -snapshot', () => {
    const args = qemuArgs({
      disk: '/o/g-sda',
      format: 'qcow2',
      bus: 'virtio',
      extraDisks: [{ disk: '/o/g,1-sdb', format: 'qcow2' }],
    });
    const drives = args.filter((_, i) => args[i - 1] === '-drive');
    expect(drives).toEqual(['file=/o/g-sda,format=qcow2,snapshot=on,if=virtio', 'file=/o/g,,1-sdb,format=qcow2,snapshot=on,if=virtio']);
    expect(qemuArgs({ disk: '/o/g-sda', format: 'qcow2', bus: 'virtio' }).filter((a) => a === '-drive')).toHaveLength(1);
  });
});
