/**
 * `v2v -o libvirt` end to end against a real libvirtd started by the test:
 * the fixture guest is converted into a directory pool, its domain is
 * defined by v2v, then started (type qemu: KVM is broken here) and seen to
 * reach a login prompt on its serial console, then undefined. Preflight
 * failures through the CLI are shown to fail within seconds, writing nothing.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Builder, parseStringPromise } from 'xml2js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture } from '../helpers/fixture.js';
import { createDirPool, destroyPool, removeDomain, startLibvirtd, virsh, virshOk, type Libvirtd } from '../helpers/libvirtd.js';
import { splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;
const POOL = 'v2v-e2e-convert';
const NAME = 'v2v-e2e-libvirt-guest';

let libvirtd: Libvirtd;
let poolDir: string;
let fixture: { vmx: string; vmdk: string };
let sourceHash: string;
let run: V2vRun;
/** The run's log directory (V2V_LOG_DIR): -o libvirt never writes its log into the pool. */
let logDir: string;

beforeAll(async () => {
  libvirtd = await startLibvirtd();
  // The pool must be readable by the libvirt-qemu user that runs the guest.
  poolDir = await mkdtemp('/var/tmp/v2v-e2e-pool-');
  await chmod(poolDir, 0o755);
  await destroyPool(libvirtd.uri, POOL);
  await createDirPool(libvirtd.uri, POOL, poolDir);
  await removeDomain(libvirtd.uri, NAME);
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  logDir = await mkdtemp('/var/tmp/v2v-e2e-logs-');
  run = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'libvirt', '-os', POOL, '-on', NAME], { V2V_LOG_DIR: join(logDir, 'v2v') });
}, 30 * MINUTE);

afterAll(async () => {
  if (!libvirtd) return;
  await removeDomain(libvirtd.uri, NAME);
  await destroyPool(libvirtd.uri, POOL);
  if (poolDir) await rm(poolDir, { recursive: true, force: true });
  if (logDir) await rm(logDir, { recursive: true, force: true });
  await libvirtd.stop();
});

describe('v2v -i vmx -o libvirt on a real libvirtd', () => {
  it('converts and defines the domain over volumes in the pool', async () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.exitCode).toBe(0);
    const xml = await parseStringPromise(await virshOk(libvirtd.uri, 'dumpxml', NAME));
    expect(xml.domain.$.type).toBe('qemu');
    const disk = xml.domain.devices[0].disk.find((d: { $: { device: string } }) => d.$.device === 'disk');
    expect(disk.source[0].$.file).toBe(join(poolDir, `${NAME}-sda`));
    expect(disk.target[0].$.bus).toBe('virtio');
    expect(xml.domain.devices[0].interface[0].mac[0].$.address).toBe('00:0c:29:3a:5b:7c');
    expect(await virshOk(libvirtd.uri, 'vol-list', POOL)).toContain(`${NAME}-sda`);
    expect(await sha256(fixture.vmdk)).toBe(sourceHash);
  });

  it('keeps its log in the log directory (created 0700), not in the pool', async () => {
    expect((await readdir(poolDir)).sort()).toEqual([`${NAME}-sda`]);
    const { files, log } = await splitOutputDir(join(logDir, 'v2v'), NAME);
    expect(files).toEqual([]);
    expect((await stat(join(logDir, 'v2v'))).mode & 0o777).toBe(0o700);
    const text = await readFile(log, 'utf8');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] \+ virsh /m);
    expect(text).toMatch(new RegExp(`^› \\[\\d\\d:\\d\\d:\\d\\d\\] next: virsh (-c \\S+ )?start ${NAME}$`, 'm'));
    expect(run.stdout.trimEnd().split('\n').at(-1)).toContain(`log: ${log}`);
  });

  it('refuses the same name again in preflight, within seconds, writing nothing', async () => {
    const before = (await readdir(poolDir)).sort();
    const r = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'libvirt', '-os', POOL, '-on', NAME]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`A libvirt domain named "${NAME}" already exists`);
    expect(r.seconds).toBeLessThan(30);
    expect((await readdir(poolDir)).sort()).toEqual(before);
  });

  it('refuses a missing pool in preflight with exit code 3', async () => {
    const r = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'libvirt', '-os', 'v2v-no-such-pool', '-on', 'v2v-e2e-other']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/v2v: error: .*v2v-no-such-pool/);
    expect(r.seconds).toBeLessThan(30);
  });

  it(
    'starts the defined guest and sees it reach a login prompt, then undefines it',
    async () => {
      // The only changes made to v2v's domain for this boot: the NIC is removed
      // (a guest must never reach outside this machine, and network "default"
      // has no bridge here) and the serial console is also logged to a file.
      const log = join(poolDir, 'serial.log');
      const xml = await parseStringPromise(await virshOk(libvirtd.uri, 'dumpxml', '--inactive', NAME));
      delete xml.domain.devices[0].interface;
      xml.domain.devices[0].serial[0].log = [{ $: { file: log, append: 'off' } }];
      const bootXml = join(poolDir, 'boot.xml');
      await writeFile(bootXml, new Builder().buildObject(xml));
      await virshOk(libvirtd.uri, 'define', bootXml);
      await virshOk(libvirtd.uri, 'start', NAME);
      let console = '';
      const deadline = Date.now() + 12 * MINUTE;
      while (Date.now() < deadline && !/login:|Gave up waiting for root|\(initramfs\)/.test(console)) {
        await new Promise((r) => setTimeout(r, 2000));
        console = await readFile(log, 'utf8').catch(() => '');
      }
      expect(console.slice(-2000)).toMatch(/login:/);
      expect((await virsh(libvirtd.uri, 'destroy', NAME)).exitCode).toBe(0);
      expect((await virsh(libvirtd.uri, 'undefine', '--nvram', NAME)).exitCode).toBe(0);
      expect((await virsh(libvirtd.uri, 'dominfo', NAME)).exitCode).not.toBe(0);
    },
    15 * MINUTE,
  );
});
