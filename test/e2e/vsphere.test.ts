/**
 * `-ic vpx://...` end to end against VMware's own vSphere simulator (govmomi's
 * simulator package, built from Debian's packages by
 * test/fixtures/build-vcsim.sh), on 127.0.0.1 with TLS and one user:password.
 * It holds the default vCenter inventory (DC0, powered-on VMs) plus a
 * powered-off VM made from the Debian test guest: its disk on the simulated
 * datastore as ESXi keeps disks (descriptor NAME.vmdk + raw NAME-flat.vmdk,
 * made here from the fixture's VMDK with qemu-img), pvscsi, vmxnet3 with the
 * guest's MAC.
 *
 * Stand-in, said plainly: the simulator serves datastore files (/folder)
 * without checking the session cookie (real vSphere checks it); v2v sends it
 * anyway and the test checks nbdkit gets it by file, never in argv.
 *
 * Bytes read from the datastore are counted by a TCP proxy between v2v and
 * the simulator (every byte the server sent, TLS and SOAP included), so the
 * figure is an upper bound of the disk data read.
 *
 * One conversion (~2.5 min under TCG) and one boot, shared by the assertions.
 */
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFlatDisk, startCountingProxy, startVcsim, type CountingProxy, type Vcsim } from '../../bench/vcsim.js';
import { watchArgv } from '../helpers/argv-watch.mjs';
import { bootDisk } from '../helpers/boot.js';
import { ensureFixture, runCachedBuild, type Fixture } from '../helpers/fixture.js';
import { markedProcesses, startV2v } from '../helpers/live-run.js';
import { announcedLog, outputEntries, splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256 } from '../helpers/v2v.js';
import { VsphereSession } from '../../drivers/vsphere.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12';
const USER = 'v2v-admin';
const PASSWORD = 'pw-Vx93-never-shown';
const VCSIM_BUILD = fileURLToPath(new URL('../fixtures/build-vcsim.sh', import.meta.url));

let fixture: Fixture;
let mac: string;
let sim: Vcsim;
/** The simulator's copies of the disk (descriptor and flat extent), whose bytes must not change. */
let simDisk: string;
let simFlat: string;
let proxy: CountingProxy;
let work: string;
let runTmp: string;
let passwordFile: string;
let diskHash: string;
let flatHash: string;
let allocated: number;

/** The vCenter URI through the counting proxy. */
function uri(query = '?no_verify=1'): string {
  return `vpx://${USER}@127.0.0.1:${proxy.port}/DC0/DC0_H0${query}`;
}

function runEnv(): Record<string, string> {
  return { TMPDIR: runTmp, LIBGUESTFS_CACHEDIR: '/var/tmp' };
}

/** Bytes of guest data in a disk (qemu-img map extents with data). */
async function allocatedBytes(disk: string): Promise<number> {
  const { stdout } = await execa('qemu-img', ['map', '--output=json', disk]);
  return (JSON.parse(stdout) as Array<{ data: boolean; length: number }>).filter((e) => e.data).reduce((n, e) => n + e.length, 0);
}

/** v2v temp dirs left in this suite's TMPDIR, and nbdkit processes reading from the simulator. */
async function leftovers(): Promise<{ dirs: string[]; nbdkit: string[] }> {
  const dirs = (await readdir(runTmp)).filter((d) => d.startsWith('v2v-'));
  const ps = await execa('ps', ['-eo', 'args'], { reject: false });
  return {
    dirs,
    nbdkit: String(ps.stdout)
      .split('\n')
      .filter((l) => l.startsWith('nbdkit ') && l.includes(`127.0.0.1:${proxy.port}/`)),
  };
}

/** Sessions open on the simulator besides the one this asks with (SessionManager.sessionList). */
async function otherSessions(): Promise<number> {
  const session = await VsphereSession.login({ host: '127.0.0.1', port: sim.port, noVerify: true }, USER, PASSWORD);
  try {
    const [sm] = await session.retrieve('SessionManager', ['sessionList'], { objects: [session.content.sessionManager] });
    const list = sm?.props.get('sessionList');
    const sessions = list
      ? Object.keys(list)
          .filter((k) => k === 'UserSession')
          .flatMap((k) => list[k] as unknown[])
      : [];
    return sessions.length - 1;
  } finally {
    await session.logout();
  }
}

beforeAll(async () => {
  fixture = await ensureFixture();
  mac = /^ethernet0\.generatedAddress = "([^"]+)"/m.exec(await readFile(fixture.vmx, 'utf8'))![1]!.toLowerCase();
  const vcsimDir = await runCachedBuild(VCSIM_BUILD);
  work = await mkdtemp(join(tmpdir(), 'v2v-vsphere-e2e-'));
  runTmp = await mkdtemp('/var/tmp/vsphere-e2e-tmp-');
  passwordFile = join(work, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  sim = await startVcsim({
    binary: join(vcsimDir, 'vcsim'),
    user: USER,
    passwordFile,
    name: NAME,
    mac,
    disk: await makeFlatDisk(fixture.vmdk, join(work, 'disk'), NAME),
    tmp: work,
  });
  simDisk = join(sim.vmDir, `${NAME}.vmdk`);
  simFlat = join(sim.vmDir, `${NAME}-flat.vmdk`);
  proxy = await startCountingProxy(sim.port);
  diskHash = await sha256(simDisk);
  flatHash = await sha256(simFlat);
  allocated = await allocatedBytes(simFlat);
}, 20 * MINUTE);

afterAll(async () => {
  proxy?.close();
  await sim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  if (runTmp) await rm(runTmp, { recursive: true, force: true });
});

describe('vSphere source (govmomi vcsim on loopback)', () => {
  it(
    'lists the VMs: name, power state, guest OS, disks; --json parses',
    async () => {
      const table = await runV2v(['list', '-ic', uri(), '-ip', passwordFile], runEnv());
      expect(table.exitCode, table.stderr).toBe(0);
      console.log(table.stdout);
      expect(table.stdout).toMatch(/^NAME\s+POWER\s+GUEST OS\s+DISKS$/m);
      expect(table.stdout).toMatch(new RegExp(`^${NAME}\\s+poweredOff\\s+debian10_64Guest\\s+2\\.0 GiB$`, 'm'));
      expect(table.stdout).toMatch(/^DC0_H0_VM0\s+poweredOn\s/m);
      const json = await runV2v(['list', '-ic', uri(), '-ip', passwordFile, '--json'], runEnv());
      expect(json.exitCode, json.stderr).toBe(0);
      const vms = JSON.parse(json.stdout) as Array<{
        name: string;
        powerState: string;
        disks: Array<{ fileName: string; capacityBytes: number }>;
      }>;
      expect(vms.map((v) => v.name)).toEqual(expect.arrayContaining([NAME, 'DC0_H0_VM0', 'DC0_H0_VM1', 'DC0_C0_RP0_VM0']));
      expect(vms.find((v) => v.name === NAME)).toMatchObject({
        powerState: 'poweredOff',
        disks: [{ fileName: `[LocalDS_0] ${NAME}/${NAME}.vmdk`, capacityBytes: 2 * 2 ** 30 }],
      });
      expect(await otherSessions()).toBe(0);
    },
    2 * MINUTE,
  );

  it(
    'refuses a powered-on VM, a wrong password, an unknown VM and an unverified certificate in seconds, leaving nothing',
    async () => {
      const wrong = join(work, 'wrong-password');
      await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
      const cases: Array<[string, string[], number, RegExp]> = [
        [
          'powered on',
          ['-ic', uri(), '-ip', passwordFile, 'DC0_H0_VM0'],
          3,
          /^v2v: error: The VM "DC0_H0_VM0" is powered on: shut the guest down \(or power the VM off\) in vSphere, then run v2v again/m,
        ],
        [
          'wrong password',
          ['-ic', uri(), '-ip', wrong, NAME],
          4,
          /^v2v: error: vSphere at 127\.0\.0\.1:\d+ refused the login of "v2v-admin" \(InvalidLogin\): check the user in the -ic URI and the password in the -ip file\.$/m,
        ],
        [
          'unknown VM',
          ['-ic', uri(), '-ip', passwordFile, 'no-such-vm'],
          4,
          /^v2v: error: No VM named "no-such-vm" in datacenter DC0 at 127\.0\.0\.1:\d+: check the name \("v2v list -ic URI -ip FILE" lists the VMs\)\.$/m,
        ],
        [
          'unverified certificate',
          ['-ic', uri(''), '-ip', passwordFile, NAME],
          4,
          /^v2v: error: The TLS certificate of 127\.0\.0\.1:\d+ cannot be verified \(\w+\): pass the CA that signed it with --ca-file FILE, or add "\?no_verify=1" to the -ic URI to skip the check\.$/m,
        ],
      ];
      for (const [what, args, code, message] of cases) {
        const out = join(work, `out-${what.replace(/ /g, '-')}`);
        await execa('mkdir', ['-p', out]);
        const run = await runV2v([...args, '-o', 'local', '-os', out], runEnv());
        console.log(`${what}: exit ${run.exitCode} in ${run.seconds.toFixed(1)} s: ${run.stderr.trim().split('\n').pop()}`);
        expect(run.exitCode, `${what}: ${run.stderr}`).toBe(code);
        expect(run.stderr, what).toMatch(message);
        expect(
          run.stderr.split('\n').filter((l) => l.startsWith('v2v: error:')),
          what,
        ).toHaveLength(1);
        expect(run.seconds, what).toBeLessThan(15);
        expect(`${run.stdout}${run.stderr}`, what).not.toContain(PASSWORD);
        // Nothing but the run's log, which names the refusal and holds no password.
        expect(await outputEntries(out), what).toEqual([]);
        const log = announcedLog(run.stderr);
        if (log !== undefined) {
          expect(log.startsWith(`${out}/`), what).toBe(true);
          const text = await readFile(log, 'utf8');
          expect(text.replace(/^\[\d\d:\d\d:\d\d\] /gm, ''), what).toMatch(message); // the log's lines are timestamped
          expect(text, what).not.toContain(PASSWORD);
        }
        expect(await leftovers(), what).toEqual({ dirs: [], nbdkit: [] });
      }
      expect(await otherSessions()).toBe(0);
    },
    5 * MINUTE,
  );

  it(
    'runs vSphere entries of a batch manifest (-ic, -ip relative to the manifest) through to the vSphere checks',
    async () => {
      const dir = join(work, 'batch');
      await execa('mkdir', ['-p', dir]);
      await writeFile(join(dir, 'pw.txt'), `${PASSWORD}\n`, { mode: 0o600 });
      await writeFile(
        join(dir, 'guests.json'),
        JSON.stringify({
          guests: [
            { input: { connection: uri(), passwordFile: 'pw.txt', paths: ['DC0_H0_VM0'] }, output: { mode: 'null' } },
            { name: 'no-password', input: { connection: uri(), paths: [NAME] }, output: { mode: 'null' } },
          ],
        }),
      );
      const run = await runV2v(['batch', join(dir, 'guests.json')], runEnv());
      expect(run.exitCode, run.stdout + run.stderr).toBe(6);
      const report = JSON.parse(await readFile(join(dir, 'guests.v2v-batch', 'report.json'), 'utf8')) as {
        guests: Array<{ name: string; status: string; exitCode: number; error?: string; argv: string[] }>;
      };
      expect(report.guests.map((g) => [g.name, g.status, g.exitCode])).toEqual([
        ['DC0_H0_VM0', 'failed', 3],
        ['no-password', 'invalid', 2],
      ]);
      expect(report.guests[0]!.error).toMatch(/The VM "DC0_H0_VM0" is powered on/);
      // The entry's key (the VM name) is its output name too (-on).
      expect(report.guests[0]!.argv).toEqual([
        '-i',
        'libvirt',
        'DC0_H0_VM0',
        '-ic',
        uri(),
        '-ip',
        join(dir, 'pw.txt'),
        '-o',
        'null',
        '-on',
        'DC0_H0_VM0',
      ]);
      expect(report.guests[1]!.error).toMatch(/needs the password of v2v-admin/);
      expect(await otherSessions()).toBe(0);
    },
    2 * MINUTE,
  );

  it(
    'logs out and leaves nothing when interrupted after the disks were opened',
    async () => {
      const out = join(work, 'out-interrupted');
      await execa('mkdir', ['-p', out]);
      const run = await startV2v(['-ic', uri(), '-ip', passwordFile, NAME, '-o', 'local', '-os', out], { V2V_TEST_PAUSE_AT: 'overlay' });
      try {
        await run.waitFor(/test hook: paused at overlay/, MINUTE);
        expect(await otherSessions()).toBe(1);
        expect((await markedProcesses(run.mark)).some((p) => p.cmd.startsWith('nbdkit '))).toBe(true);
        run.child.kill('SIGINT');
        expect(await run.exited).toBe(130);
        expect(await otherSessions()).toBe(0);
        expect(await markedProcesses(run.mark)).toEqual([]);
        expect((await readdir(run.tmp)).filter((d) => d.startsWith('v2v-'))).toEqual([]);
        const { files, log } = await splitOutputDir(out);
        expect(files).toEqual([]);
        expect(await readFile(log, 'utf8')).toMatch(/v2v: error: interrupted/);
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
        await rm(run.tmp, { recursive: true, force: true });
      }
    },
    3 * MINUTE,
  );

  it(
    'converts the powered-off VM with -o local reading the datastore over HTTPS once; it boots on virtio; the datastore file is unchanged',
    async () => {
      const out = join(work, 'local');
      await execa('mkdir', ['-p', out]);
      const printed = await runV2v(['-ic', uri(), '-ip', passwordFile, NAME, '--print-source'], runEnv());
      expect(printed.exitCode, printed.stderr).toBe(0);
      const source = JSON.parse(printed.stdout.slice(printed.stdout.indexOf('{'))) as Record<string, unknown>;
      expect(source).toMatchObject({
        name: NAME,
        memoryMiB: 1024,
        vcpus: 2,
        cpuTopology: { sockets: 1, cores: 2, threads: 1 },
        firmware: 'bios',
        secureBoot: false,
        disks: [
          { path: `[LocalDS_0] ${NAME}/${NAME}.vmdk`, bus: 'scsi', controller: 0, unit: 0, controllerModel: 'pvscsi', format: 'raw' },
        ],
        nics: [{ mac, model: 'vmxnet3', network: 'VM Network' }],
        genid: '09512cc5-940a-8987-b950-f54f631015e8',
      });
      proxy.bytes = 0;
      const argv = watchArgv();
      // --bandwidth (virt-v2v's spelling) throttles the datastore reads with nbdkit's rate filter; 10G costs nothing here.
      const run = await runV2v(['-x', '-ic', uri(), '-ip', passwordFile, NAME, '-o', 'local', '-os', out, '--bandwidth', '10G'], runEnv());
      const seen = await argv.stop();
      expect(run.exitCode, run.stderr).toBe(0);
      const read = proxy.bytes;
      console.log(
        `datastore: ${read} bytes read through the proxy for ${allocated} allocated (ratio ${(read / allocated).toFixed(4)}); v2v took ${run.seconds.toFixed(1)} s`,
      );
      expect(read / allocated).toBeLessThanOrEqual(1.1);
      // The session cookie reaches nbdkit by file only; neither it nor the password is in any argv or output.
      const nbdkit = seen.filter((a) => a.startsWith('nbdkit ') && a.includes(`127.0.0.1:${proxy.port}/folder/`));
      expect(nbdkit.length).toBeGreaterThan(0);
      for (const a of nbdkit) expect(a).toMatch(/ cookie=\+\/\S+ /);
      for (const a of nbdkit) expect(a).toMatch(/ --filter=rate .* rate=10G\b/);
      const { files, log } = await splitOutputDir(out, NAME);
      for (const text of [...seen, run.stdout, run.stderr, await readFile(log, 'utf8')]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain('vmware_soap_session');
      }
      expect(files).toEqual([`${NAME}-sda`, `${NAME}.xml`]);
      const xml = await readFile(join(out, `${NAME}.xml`), 'utf8');
      expect(xml).toContain(`<mac address="${mac}"/>`);
      expect(await leftovers()).toEqual({ dirs: [], nbdkit: [] });
      expect(await otherSessions()).toBe(0);
      expect(await sha256(simDisk)).toBe(diskHash);
      expect(await sha256(simFlat)).toBe(flatHash);
      const boot = await bootDisk({
        disk: join(out, `${NAME}-sda`),
        format: 'raw',
        bus: 'virtio',
        logFile: join(work, 'boot.log'),
        timeoutMs: 15 * MINUTE,
      });
      expect(boot.outcome, boot.log.slice(-2000)).toBe('login');
      console.log(`boot: login after ${boot.seconds.toFixed(0)} s`);
    },
    30 * MINUTE,
  );
});
