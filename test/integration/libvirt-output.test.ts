/**
 * `-o libvirt` against a real libvirtd (qemu:///system, started by the test
 * if needed): every preflight failure comes through the real
 * Output.preflight with real virsh, quickly and with the fix; a domain XML
 * from buildDomainXml (type 'qemu': KVM hangs here) defines, starts, is
 * destroyed and undefined; finish defines the guest, and removes the copied
 * volumes when the define fails.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import { defineDomain, domainInfo, domainState, undefineDomain } from '../../drivers/virsh.js';
import { PreflightError } from '../../src/errors.js';
import type { GuestCaps, Inspection, Source, Overlay } from '../../src/model.js';
import { buildDomainXml } from '../../src/output/domain-xml.js';
import { libvirtOutput, type LibvirtOutputOptions } from '../../src/output/libvirt.js';
import type { NetworkMapping } from '../../src/output/networks.js';
import { createDirPool, destroyPool, hasOvmf, removeDomain, startLibvirtd, virshOk, type Libvirtd } from '../helpers/libvirtd.js';

const POOL = 'v2v-e2e-dir';
const NETFS_POOL = 'v2v-e2e-netfs';
const INACTIVE_POOL = 'v2v-e2e-inactive';
const DOMAINS = ['v2v-e2e-exists', 'v2v-e2e-boot', 'v2v-e2e-uefi', 'v2v-e2e-finish', 'v2v-e2e-clash'];
/** Every preflight failure must come well before anything slow would start. */
const FAST_MS = 10_000;
const MiB = 2 ** 20;

let daemon: Libvirtd;
let work: string;
let poolDir: string;

const caps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };
const inspection = { type: 'linux', distro: 'debian', majorVersion: 12, minorVersion: 0, productName: 'Debian 12' } as Inspection;

function source(name: string, overrides: Partial<Source> = {}): Source {
  return testSource({ name, memoryMiB: 64, vcpus: 1, ...overrides });
}

function overlay(virtualSize = 16 * MiB): Overlay {
  return {
    path: join(work, 'overlay.qcow2'),
    backingFormat: 'raw',
    virtualSize,
    disk: { path: '/src.img', bus: 'scsi', controller: 0, unit: 0 },
  };
}

function output(overrides: Partial<LibvirtOutputOptions> = {}): ReturnType<typeof libvirtOutput> {
  return libvirtOutput({ uri: daemon.uri, pool: POOL, format: 'raw', allocation: 'sparse', ...overrides });
}

/** Runs a preflight expected to fail; checks the error type, message and time. */
async function expectPreflightFailure(run: () => Promise<unknown>, message: RegExp): Promise<void> {
  const started = Date.now();
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  expect(error).toBeInstanceOf(PreflightError);
  expect((error as Error).message).toMatch(message);
  // One sentence: no line breaks, ends with a period.
  expect((error as Error).message).not.toContain('\n');
  expect((error as Error).message).toMatch(/\.$/);
  expect(elapsed).toBeLessThan(FAST_MS);
  console.log(`${(elapsed / 1000).toFixed(2)} s: ${(error as Error).message}`);
}

async function rawDisk(path: string, size = 16 * MiB): Promise<void> {
  await execa('qemu-img', ['create', '-q', '-f', 'raw', path, String(size)]);
}

async function cleanLeftovers(): Promise<void> {
  for (const name of DOMAINS) await removeDomain(daemon.uri, name);
  for (const pool of [POOL, NETFS_POOL, INACTIVE_POOL]) await destroyPool(daemon.uri, pool);
}

beforeAll(async () => {
  const started = Date.now();
  daemon = await startLibvirtd();
  console.log(`libvirtd ${daemon.started ? 'started' : 'already running'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await cleanLeftovers();
  work = await mkdtemp(join(tmpdir(), 'v2v-libvirt-e2e-'));
  // qemu runs as libvirt-qemu: mkdtemp's 0700 would stop it reaching the pool ("Permission denied" at start).
  await chmod(work, 0o755);
  poolDir = join(work, 'pool');
  await createDirPool(daemon.uri, POOL, poolDir);
  // A non-dir pool: netfs can be defined (not started) without an NFS server.
  await virshOk(
    daemon.uri,
    'pool-define-as',
    NETFS_POOL,
    'netfs',
    '--source-host',
    '127.0.0.1',
    '--source-path',
    '/export',
    '--target',
    join(work, 'nfs'),
  );
  await mkdir(join(work, 'inactive'));
  await virshOk(daemon.uri, 'pool-define-as', INACTIVE_POOL, 'dir', '--target', join(work, 'inactive'));
}, 90_000);

afterAll(async () => {
  if (daemon) {
    await cleanLeftovers();
    await daemon.stop();
  }
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('-o libvirt preflight against a real libvirtd', () => {
  it('passes for a free name and plans volumes NAME-sdX in the pool directory', async () => {
    const out = output();
    await out.prepare();
    const targets = out.planDisks('v2v-e2e-free', [overlay(), overlay()]);
    expect(targets.map((t) => t.path)).toEqual([join(poolDir, 'v2v-e2e-free-sda'), join(poolDir, 'v2v-e2e-free-sdb')]);
    expect(targets.map((t) => t.dev)).toEqual(['vda', 'vdb']);
    await out.preflight('v2v-e2e-free', targets, 32 * MiB);
    await out.discard?.();
  });

  it('fails when libvirtd is not reachable at the URI', async () => {
    const out = output({ uri: 'qemu+unix:///system?socket=/nonexistent' });
    await expectPreflightFailure(
      () => out.preflight('g', [], 0),
      /^libvirt is not reachable at qemu\+unix:\/\/\/system\?socket=\/nonexistent \(Failed to connect socket to '\/nonexistent': No such file or directory\): start libvirtd or pass another "-oc URI"\.$/,
    );
  });

  it('fails when the pool does not exist', async () => {
    await expectPreflightFailure(
      () => output({ pool: 'v2v-e2e-nosuch' }).preflight('g', [], 0),
      /^Storage pool "v2v-e2e-nosuch" does not exist at qemu:\/\/\/system: create a directory pool .* or pass another "-os POOL"\.$/,
    );
  });

  it('fails when the pool is not a directory pool', async () => {
    await expectPreflightFailure(
      () => output({ pool: NETFS_POOL }).preflight('g', [], 0),
      /^Storage pool "v2v-e2e-netfs" is of type netfs, but -o libvirt .* needs a directory pool: pass a pool of type dir with "-os POOL"\.$/,
    );
  });

  it('fails when the pool is not active', async () => {
    await expectPreflightFailure(
      () => output({ pool: INACTIVE_POOL }).preflight('g', [], 0),
      /^Storage pool "v2v-e2e-inactive" is inactive, not active: start it with "virsh -c qemu:\/\/\/system pool-start v2v-e2e-inactive"\.$/,
    );
  });

  it('fails when a network or bridge the -n/-b/--mac rules name does not exist on the target', async () => {
    const mapping: NetworkMapping = { networks: [], bridges: [], macs: [] };
    const named = (rules: Partial<NetworkMapping>): ReturnType<typeof output> => output({ networkMapping: { ...mapping, ...rules } });
    await expectPreflightFailure(
      () => named({ networks: ['VM Network:v2v-e2e-nonet'] }).preflight('g', [], 0),
      /^The libvirt network "v2v-e2e-nonet" does not exist at qemu:\/\/\/system: create it \("virsh net-define"\), or map the NICs to an existing one/,
    );
    await expectPreflightFailure(
      () => named({ macs: ['00:0c:29:3a:5b:7c:bridge:v2vnobr0'] }).preflight('g', [], 0),
      /^The bridge "v2vnobr0" does not exist on this host: create it, or map the NICs to an existing bridge or a libvirt network \(-n\)\.$/,
    );
    await expectPreflightFailure(() => named({ bridges: ['lo'] }).preflight('g', [], 0), /^The host interface "lo" is not a bridge: /);
  });

  it('fails when a domain of that name exists', async () => {
    const xml = buildDomainXml({ name: 'v2v-e2e-exists', source: source('v2v-e2e-exists'), disks: [], caps });
    await writeFile(join(work, 'exists.xml'), xml);
    await defineDomain(daemon.uri, join(work, 'exists.xml'));
    const out = output();
    await out.prepare();
    await expectPreflightFailure(
      () => out.preflight('v2v-e2e-exists', out.planDisks('v2v-e2e-exists', [overlay()]), 0),
      /^A libvirt domain named "v2v-e2e-exists" already exists at qemu:\/\/\/system \(shut off\): remove it \("virsh undefine v2v-e2e-exists"\) or choose another guest name with "-on NAME"\.$/,
    );
  });

  it('fails when a volume of that name exists, even one libvirt has not seen yet', async () => {
    await rawDisk(join(poolDir, 'v2v-e2e-vol-sdb'), MiB);
    const out = output();
    await out.prepare();
    const targets = out.planDisks('v2v-e2e-vol', [overlay(), overlay()]);
    await expectPreflightFailure(
      () => out.preflight('v2v-e2e-vol', targets, 0),
      /^Volume "v2v-e2e-vol-sdb" already exists in storage pool "v2v-e2e-dir": delete it \("virsh vol-delete --pool v2v-e2e-dir v2v-e2e-vol-sdb"\) or choose another guest name with "-on NAME"\.$/,
    );
  });

  it('fails when the pool has too little space', async () => {
    const out = output();
    await out.prepare();
    await expectPreflightFailure(
      () => out.preflight('v2v-e2e-big', out.planDisks('v2v-e2e-big', [overlay()]), 2 ** 60),
      /^Not enough space in storage pool "v2v-e2e-dir" \(.*\/pool\): 1048576\.0 TiB needed, [\d.]+ [GT]iB available; free some space or pass another "-os POOL"\.$/,
    );
  });
});

describe('domain XML from buildDomainXml on this libvirtd', () => {
  it('defines, starts, destroys and undefines a type=qemu guest (no network interface)', async () => {
    const name = 'v2v-e2e-boot';
    const disk = join(poolDir, `${name}-sda`);
    await rawDisk(disk);
    const xml = buildDomainXml({
      name,
      source: source(name),
      disks: [{ overlay: '', path: disk, format: 'raw', virtualSize: 16 * MiB, dev: 'vda' }],
      caps,
      inspection,
    });
    await writeFile(join(work, `${name}.xml`), xml);
    await defineDomain(daemon.uri, join(work, `${name}.xml`));
    expect(await domainState(daemon.uri, name)).toBe('shut off');
    await virshOk(daemon.uri, 'start', name);
    expect(await domainState(daemon.uri, name)).toBe('running');
    await virshOk(daemon.uri, 'destroy', name);
    await undefineDomain(daemon.uri, name);
    expect(await domainInfo(daemon.uri, name)).toBeUndefined();
  }, 60_000);

  it.skipIf(!hasOvmf())(
    'defines and starts a UEFI guest with secure boot off (needs the ovmf package)',
    async () => {
      const name = 'v2v-e2e-uefi';
      const disk = join(poolDir, `${name}-sda`);
      await rawDisk(disk);
      const xml = buildDomainXml({
        name,
        source: source(name, { firmware: 'uefi' }),
        disks: [{ overlay: '', path: disk, format: 'raw', virtualSize: 16 * MiB, dev: 'vda' }],
        caps,
        inspection,
      });
      await writeFile(join(work, `${name}.xml`), xml);
      await defineDomain(daemon.uri, join(work, `${name}.xml`));
      await virshOk(daemon.uri, 'start', name);
      expect(await domainState(daemon.uri, name)).toBe('running');
      await virshOk(daemon.uri, 'destroy', name);
      await undefineDomain(daemon.uri, name);
      expect(await domainState(daemon.uri, name)).toBeUndefined();
    },
    60_000,
  );
});

describe('-o libvirt finish', () => {
  it('defines the guest over the copied volumes and returns the domain and volumes', async () => {
    const name = 'v2v-e2e-finish';
    const out = output();
    await out.prepare();
    const targets = out.planDisks(name, [overlay()]);
    await out.preflight(name, targets, 16 * MiB);
    await rawDisk(targets[0]!.partialPath!); // what the copy stage would have written
    const nics = [{ mac: '52:54:00:12:34:56', network: 'VM Network' }];
    expect(await out.finish({ name, source: source(name, { nics }), inspection, caps, targets })).toEqual([name, targets[0]!.path]);
    expect(await domainState(daemon.uri, name)).toBe('shut off');
    const xml = await virshOk(daemon.uri, 'dumpxml', name);
    expect(xml).toContain(`<source file='${targets[0]!.path}'/>`);
    expect(xml).toContain("<mac address='52:54:00:12:34:56'/>");
    expect(await virshOk(daemon.uri, 'vol-list', POOL)).toContain(`${name}-sda`);
    // The run's lock (NAME.v2v-lock, held in the pool directory while the run lasts) is gone, and libvirt lists no volume for it.
    expect(existsSync(join(poolDir, `${name}.v2v-lock`))).toBe(false);
    expect(await virshOk(daemon.uri, 'vol-list', POOL)).not.toContain('v2v-lock');
  });

  it('removes the copied volumes when the define fails', async () => {
    const name = 'v2v-e2e-clash';
    const out = output();
    await out.prepare();
    const targets = out.planDisks(name, [overlay()]);
    await out.preflight(name, targets, 0);
    await rawDisk(targets[0]!.partialPath!);
    // Someone defines the same name between preflight and finish.
    await writeFile(join(work, 'clash.xml'), buildDomainXml({ name, source: source(name), disks: [], caps }));
    await defineDomain(daemon.uri, join(work, 'clash.xml'));
    await expect(out.finish({ name, source: source(name), inspection, caps, targets })).rejects.toThrow(
      /^Defining the libvirt domain v2v-e2e-clash at qemu:\/\/\/system failed, so its copied volumes were removed: .*already exists/,
    );
    expect(existsSync(targets[0]!.path)).toBe(false);
    expect(await virshOk(daemon.uri, 'vol-list', POOL)).not.toContain(`${name}-sda`);
    // The failed run's rollback leaves the other domain of that name alone (#16 item 1).
    await out.rollback?.(name);
    expect(await domainState(daemon.uri, name)).toBe('shut off');
  });

  it("reserves the volume names in preflight: a second run for the same names fails there and leaves the first one's files", async () => {
    const name = 'v2v-e2e-race';
    const first = output();
    await first.prepare();
    const targets = first.planDisks(name, [overlay()]);
    await first.preflight(name, targets, 0);
    expect(existsSync(targets[0]!.path) && existsSync(targets[0]!.partialPath!)).toBe(true);
    const second = output();
    await second.prepare();
    await expectPreflightFailure(
      () => second.preflight(name, second.planDisks(name, [overlay()]), 0),
      /^Volume "v2v-e2e-race-sda" already exists in storage pool "v2v-e2e-dir": delete it/,
    );
    await second.discard?.();
    expect(existsSync(targets[0]!.path) && existsSync(targets[0]!.partialPath!)).toBe(true);
    await first.discard?.();
    expect(existsSync(targets[0]!.path) || existsSync(targets[0]!.partialPath!)).toBe(false);
  });
});
