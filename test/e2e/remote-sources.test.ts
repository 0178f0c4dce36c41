/**
 * Remote sources end to end, against a real sshd and a real HTTPS server on
 * loopback (both started and stopped here): the fixture guest converted over
 * SSH and over HTTPS and booted; over SSH laid out on two datastores, as ESXi
 * names a data disk kept on another one (the system disk by an absolute path,
 * a small data disk by ../../ds2/..., test/helpers/datastores.ts), both disks
 * converted and seen by the booted guest; each remote block fetched about once
 * (copy-on-read overlay); no credential in any process argv or output; a
 * transient fault during the copy retried; a permanent one a clear error with
 * nothing left. Two full conversions of the VMware guest (~2.5 min each under
 * TCG), run at the same time, each with its own TMPDIR: a conversion keeps
 * about one of the two cores busy (the appliance's TCG guest mostly runs one
 * thread). The permanent fault is shown on a third run whose source is the
 * guest converted over HTTPS, served by a second server (`-i disk https://`),
 * so it reaches the copy without rebuilding the initramfs again.
 */
import { execa } from 'execa';
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchArgv } from '../helpers/argv-watch.mjs';
import { bootDisk, type BootResult } from '../helpers/boot.js';
import { DATA_DISK_CONSOLE, twoDatastoreVm, type TwoDatastoreVm } from '../helpers/datastores.js';
import { ensureFixture, type Fixture } from '../helpers/fixture.js';
import { makeSelfSignedCert, startHttpsServer } from '../../bench/https-server.js';
import { startSshd } from '../helpers/sshd.mjs';
import { splitOutputDir } from '../helpers/run-log.js';
import { ROOT, runV2v, sha256 } from '../helpers/v2v.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12';
const USER = 'v2vtest';
const PASSWORD = 'pw-Zq81-never-shown';

let fixture: Fixture;
let sourceHash: string;
let allocated: number;
let work: string;
let tls: Awaited<ReturnType<typeof makeSelfSignedCert>>;
let https: Awaited<ReturnType<typeof startHttpsServer>>;
let sshd: Awaited<ReturnType<typeof startSshd>>;
/** Serves the guest converted over HTTPS (raw), for the server-gone test; stopped by that test. */
let converted: Awaited<ReturnType<typeof startHttpsServer>> | undefined;
/** The SSH and HTTPS conversions, each with its boot: started together, awaited by their tests. */
let sshChain: Promise<SshConversion> | undefined;
let httpsChain: Promise<HttpsConversion> | undefined;
/** The output directory of the HTTPS conversion, kept for the server-gone test. */
let httpsOut: string | undefined;
let passwordFile: string;
/** TMPDIR of the v2v runs here: overlays and sockets land in it, and must be gone after each run. */
let runTmp: string;
/** TMPDIR of the SSH conversion, which runs beside the HTTPS one. */
let sshTmp: string;

/** Bytes of guest data in the source (qemu-img map extents with data). */
async function allocatedBytes(disk: string): Promise<number> {
  const { stdout } = await execa('qemu-img', ['map', '--output=json', disk]);
  return (JSON.parse(stdout) as Array<{ data: boolean; length: number }>).filter((e) => e.data).reduce((n, e) => n + e.length, 0);
}

/** TMPDIR for v2v; libguestfs keeps its appliance cache in the shared /var/tmp as usual. */
function runEnv(tmp = runTmp): Record<string, string> {
  return { TMPDIR: tmp, LIBGUESTFS_CACHEDIR: '/var/tmp' };
}

/** How an nbdkit command line names each server of this suite. */
const SERVED_BY = {
  https: () => `127.0.0.1:${https.port}/`,
  ssh: () => `port=${sshd.port}`,
  converted: () => (converted ? `127.0.0.1:${converted.port}/` : undefined),
};

/** The v2v temp dirs left in `tmp`, and nbdkit processes serving the given servers (default: all of this suite's). */
async function leftovers(
  tmp = runTmp,
  servers: Array<keyof typeof SERVED_BY> = ['https', 'ssh', 'converted'],
): Promise<{ dirs: string[]; nbdkit: string[] }> {
  const dirs = (await readdir(tmp)).filter((d) => d.startsWith('v2v-'));
  const ps = await execa('ps', ['-eo', 'args'], { reject: false });
  const names = servers.map((server) => SERVED_BY[server]()).filter((n): n is string => n !== undefined);
  const ours = (l: string) => names.some((n) => l.includes(n));
  return {
    dirs,
    nbdkit: String(ps.stdout)
      .split('\n')
      .filter((l) => l.startsWith('nbdkit ') && ours(l)),
  };
}

/** Runs v2v (TMPDIR private to this suite), calling `onLine` for each stdout line as it arrives. */
async function runV2vStreaming(args: string[], onLine: (line: string) => void) {
  const child = execa('node', [`${ROOT}/bin/v2v.js`, ...args], { reject: false, cwd: ROOT, stdin: 'ignore', env: runEnv() });
  child.stdout?.on('data', (b: Buffer) => b.toString('utf8').split('\n').forEach(onLine));
  const r = await child;
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  allocated = await allocatedBytes(fixture.vmdk);
  work = await mkdtemp(join(tmpdir(), 'v2v-remote-e2e-'));
  runTmp = await mkdtemp('/var/tmp/remote-e2e-tmp-');
  sshTmp = await mkdtemp('/var/tmp/remote-e2e-ssh-tmp-');
  passwordFile = join(work, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  tls = await makeSelfSignedCert();
  https = await startHttpsServer({ root: fixture.dir, cert: tls.cert, key: tls.key, auth: { user: USER, password: PASSWORD } });
  sshd = await startSshd();
}, 40 * MINUTE);

afterAll(async () => {
  await Promise.allSettled([sshChain, httpsChain]); // nothing of theirs left running after a failed test
  await https?.stop().catch(() => undefined);
  await converted?.stop().catch(() => undefined);
  await sshd?.stop();
  if (tls) await rm(tls.dir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
  if (runTmp) await rm(runTmp, { recursive: true, force: true });
  if (sshTmp) await rm(sshTmp, { recursive: true, force: true });
}, 30 * MINUTE);

/** Awaited by its test; marked handled now so a failure before then is not an unhandled rejection. */
function started<T>(chain: Promise<T>): Promise<T> {
  chain.catch(() => undefined);
  return chain;
}

/** A conversion's run, the files it wrote, what it left running or in its TMPDIR (right after it), and the boot of its disk. */
interface Conversion {
  run: { exitCode: number; stdout: string; stderr: string; seconds: number };
  out: string;
  files: string[];
  left: { dirs: string[]; nbdkit: string[] };
  boot: BootResult;
}
interface SshConversion extends Conversion {
  /** The layout converted: the .vmx on ds1, the data disk on ds2. */
  layout: TwoDatastoreVm;
  /** The domain XML written. */
  xml: string;
  /** qemu-img compare of the data disk's flat extent with its converted copy. */
  compare: { exitCode: number; stdout: string };
  /** sha256 of the data disk's flat extent before the run. */
  dataHash: string;
}
interface HttpsConversion extends Conversion {
  armed: boolean;
  dropped: number;
  /** Every process argv seen during the run. */
  seen: string[];
  served: number;
  refetched: number;
  ranges: number;
}

/**
 * The fixture converted over SSH (its own TMPDIR: it runs beside the HTTPS
 * conversion), laid out on two datastores, then booted with both disks.
 */
async function convertOverSsh(): Promise<SshConversion> {
  const out = join(work, 'ssh');
  await execa('mkdir', ['-p', out]);
  const layout = await twoDatastoreVm(fixture, join(work, 'vmfs-volumes'), NAME);
  const dataHash = await sha256(layout.dataFlat);
  const run = await runV2v(
    [
      '-i',
      'vmx',
      '-it',
      'ssh',
      `ssh://${sshd.user}@127.0.0.1:${sshd.port}${layout.vmx}`,
      '--ssh-identity',
      sshd.identity,
      '--ssh-fingerprint',
      sshd.fingerprint,
      '-o',
      'local',
      '-os',
      out,
      '-of',
      'qcow2',
    ],
    runEnv(sshTmp),
  );
  const { files } = await splitOutputDir(out, NAME);
  const left = await leftovers(sshTmp, ['ssh']);
  const xml = await readFile(join(out, `${NAME}.xml`), 'utf8').catch(() => '');
  const compare = await execa('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', layout.dataFlat, join(out, `${NAME}-sdb`)], {
    reject: false,
  });
  const boot = await bootDisk({
    disk: join(out, `${NAME}-sda`),
    format: 'qcow2',
    bus: 'virtio',
    extraDisks: [{ disk: join(out, `${NAME}-sdb`), format: 'qcow2' }],
    logFile: join(work, 'boot-ssh.log'),
    timeoutMs: 15 * MINUTE,
  });
  await rm(out, { recursive: true, force: true });
  return {
    run,
    out,
    files,
    left,
    boot,
    layout,
    xml,
    compare: { exitCode: compare.exitCode ?? -1, stdout: String(compare.stdout).trim() },
    dataHash,
  };
}

/** The fixture converted over HTTPS with a password, four requests dropped during the copy, then booted. */
async function convertOverHttps(): Promise<HttpsConversion> {
  const out = join(work, 'https');
  await execa('mkdir', ['-p', out]);
  https.state.bytesServed = 0;
  https.state.ranges.length = 0;
  https.state.dropped = 0;
  let armed = false;
  const argv = watchArgv();
  const t0 = Date.now();
  // -x traces every command with its argv: the password must not be in it either.
  const result = await runV2vStreaming(
    [
      '-x',
      '-i',
      'vmx',
      `https://${USER}@127.0.0.1:${https.port}/guest.vmx`,
      '-ip',
      passwordFile,
      '--ca-file',
      tls.cert,
      '-o',
      'local',
      '-os',
      out,
    ],
    (line) => {
      // A transient fault in the middle of the copy: the next 4 requests lose their connection.
      if (!armed && /Copying disk/.test(line)) {
        armed = true;
        setTimeout(() => https.drop(4), 3000);
      }
    },
  );
  const run = { ...result, seconds: (Date.now() - t0) / 1000 };
  const seen = await argv.stop();
  const vmdkRanges = https.state.ranges.filter((r) => r.path === '/guest.vmdk').sort((a, b) => a.start - b.start);
  let refetched = 0;
  let reach = -1;
  for (const r of vmdkRanges) {
    if (r.start <= reach) refetched += Math.min(reach, r.end) - r.start + 1;
    reach = Math.max(reach, r.end);
  }
  const { files } = await splitOutputDir(out, NAME);
  const left = await leftovers(runTmp, ['https']);
  const boot = await bootDisk({
    disk: join(out, `${NAME}-sda`),
    format: 'raw',
    bus: 'virtio',
    logFile: join(work, 'boot-https.log'),
    timeoutMs: 15 * MINUTE,
  });
  return {
    run,
    out,
    armed,
    dropped: https.state.dropped,
    seen,
    served: https.state.bytesServed,
    refetched,
    ranges: vmdkRanges.length,
    files,
    left,
    boot,
  };
}

describe('remote sources (real sshd and HTTPS server on loopback)', () => {
  it(
    'refuses an untrusted host key and an unverifiable certificate before anything starts',
    async () => {
      const ssh = await runV2v(
        [
          '-i',
          'vmx',
          '-it',
          'ssh',
          `ssh://${sshd.user}@127.0.0.1:${sshd.port}${fixture.vmx}`,
          '--ssh-identity',
          sshd.identity,
          '--known-hosts',
          '/dev/null',
          '-o',
          'null',
        ],
        runEnv(),
      );
      expect(ssh.exitCode).toBe(4);
      expect(ssh.stderr).toMatch(/^v2v: error: .*host key is not trusted.*--ssh-fingerprint/m);
      const web = await runV2v(
        ['-i', 'vmx', `https://${USER}@127.0.0.1:${https.port}/guest.vmx`, '-ip', passwordFile, '-o', 'null'],
        runEnv(),
      );
      expect(web.exitCode).toBe(4);
      expect(web.stderr).toMatch(/certificate .* cannot be verified .*--ca-file FILE/);
      expect(await leftovers()).toEqual({ dirs: [], nbdkit: [] });
    },
    2 * MINUTE,
  );

  describe('the guest converted over SSH and over HTTPS, both at once', () => {
    beforeAll(() => {
      sshChain = started(convertOverSsh());
      httpsChain = started(convertOverHttps());
    });

    it(
      'converts the guest over SSH (host key pinned by fingerprint) with a data disk on another datastore, and it boots on virtio seeing both',
      async () => {
        const { run, files, left, boot, layout, xml, compare, dataHash } = await sshChain!;
        console.log(`SSH: converted in ${run.seconds.toFixed(1)} s, booted to ${boot.outcome} in ${boot.seconds.toFixed(1)} s`);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout).toContain(`ssh://${sshd.user}@127.0.0.1:${sshd.port}`);
        // The system disk named by its absolute path, the data disk by ../../ds2/...: both read on the server.
        expect(run.stdout).toContain('Copying disk 2/2');
        expect(files).toEqual([`${NAME}-sda`, `${NAME}-sdb`, `${NAME}.xml`]);
        const targets = [...xml.matchAll(/<target dev="(vd[a-z])" bus="(\w+)"\/>/g)].map((m) => `${m[1]} ${m[2]}`);
        expect(targets, xml).toEqual(['vda virtio', 'vdb virtio']);
        expect(compare, 'the data disk converted byte for byte').toEqual({ exitCode: 0, stdout: 'Images are identical.' });
        expect(left).toEqual({ dirs: [], nbdkit: [] });
        expect(boot.outcome, boot.log.slice(-2000)).toBe('login');
        // The guest's kernel found the data disk as its second virtio disk.
        expect(boot.log).toMatch(DATA_DISK_CONSOLE);
        expect(await sha256(fixture.vmdk)).toBe(sourceHash);
        expect(await sha256(layout.dataFlat)).toBe(dataHash);
      },
      45 * MINUTE,
    );

    it(
      'converts over HTTPS with a password through dropped connections, fetching each block about once, and boots',
      async () => {
        const { run, out, armed, dropped, seen, served, refetched, ranges, files, left, boot } = await httpsChain!;
        console.log(`HTTPS: converted in ${run.seconds.toFixed(1)} s, booted to ${boot.outcome} in ${boot.seconds.toFixed(1)} s`);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(armed).toBe(true);
        expect(dropped).toBe(4);
        expect(seen.some((a) => a.startsWith('nbdkit ') && a.includes('password=+'))).toBe(true);
        for (const text of [...seen, run.stdout, run.stderr]) expect(text).not.toContain(PASSWORD);
        // Copy-on-read: what inspection and conversion read is kept in the overlay, so
        // the copy does not fetch it again. Bytes served stay close to the guest's data.
        console.log(
          `HTTPS: served ${served} bytes for ${allocated} allocated (ratio ${(served / allocated).toFixed(4)}), ${refetched} bytes fetched more than once, ${ranges} range requests, ${dropped} dropped`,
        );
        expect(served / allocated).toBeLessThanOrEqual(1.1);
        expect(refetched).toBeLessThan(allocated * 0.02);
        expect(files).toEqual([`${NAME}-sda`, `${NAME}.xml`]);
        expect(left).toEqual({ dirs: [], nbdkit: [] });
        expect(boot.outcome, boot.log.slice(-2000)).toBe('login');
        expect(await sha256(fixture.vmdk)).toBe(sourceHash);
        httpsOut = out; // the next test's source
      },
      45 * MINUTE,
    );
  });

  it(
    'fails clearly when the server goes away for good: non-zero exit, no target, no temp files, source untouched',
    async () => {
      // Any remote disk shows this; the guest converted above (raw) gets to the copy
      // quickly, as it needs no conversion work (the VMware guest spends ~1.5 min on it).
      expect(httpsOut, 'the HTTPS conversion above must have succeeded').toBeDefined();
      const disk = join(httpsOut!, `${NAME}-sda`);
      const diskHash = await sha256(disk);
      converted = await startHttpsServer({ root: httpsOut!, cert: tls.cert, key: tls.key, auth: { user: USER, password: PASSWORD } });
      const out = join(work, 'gone');
      await execa('mkdir', ['-p', out]);
      let stopped: Promise<void> | undefined;
      const run = await runV2vStreaming(
        [
          '-i',
          'disk',
          `https://${USER}@127.0.0.1:${converted.port}/${NAME}-sda`,
          '-if',
          'raw',
          '-ip',
          passwordFile,
          '--ca-file',
          tls.cert,
          '-o',
          'local',
          '-os',
          out,
        ],
        (line) => {
          if (!stopped && /Copying disk/.test(line)) stopped = converted!.stop();
        },
      );
      await stopped;
      expect(stopped).toBeDefined();
      expect(await leftovers()).toEqual({ dirs: [], nbdkit: [] });
      expect(run.exitCode, run.stderr).toBe(5);
      const errors = run.stderr.split('\n').filter((l) => l.startsWith('v2v: error:'));
      expect(errors).toHaveLength(1);
      console.log(errors[0]);
      expect(errors[0]).toMatch(
        /Reading the remote source https:\/\/(\S+@)?127\.0\.0\.1:\d+\/\S+ failed after retries .*: check the server and the network, then run again\./,
      );
      expect(run.stderr).not.toContain(PASSWORD);
      // Only the run's log is left: it names the failure, and the password never reached it.
      const { files, log } = await splitOutputDir(out);
      expect(files).toEqual([]);
      const text = await readFile(log, 'utf8');
      expect(text).toContain('Reading the remote source');
      expect(text).not.toContain(PASSWORD);
      expect(await sha256(disk)).toBe(diskHash);
      expect(await sha256(fixture.vmdk)).toBe(sourceHash);
    },
    45 * MINUTE,
  );

  it('a disk image given as the .vmx, over SSH and over HTTPS: one error saying what it looks like, exit 4', async () => {
    const ssh = await runV2v(
      [
        '-i',
        'vmx',
        '-it',
        'ssh',
        `ssh://${sshd.user}@127.0.0.1:${sshd.port}${fixture.vmdk}`,
        '--ssh-identity',
        sshd.identity,
        '--ssh-fingerprint',
        sshd.fingerprint,
        '-o',
        'null',
        '--no-log-file',
      ],
      runEnv(sshTmp),
    );
    const vmdk = basename(fixture.vmdk);
    const overHttps = await runV2v(
      [
        '-i',
        'vmx',
        `https://${USER}@127.0.0.1:${https.port}/${vmdk}`,
        '-ip',
        passwordFile,
        '--ca-file',
        tls.cert,
        '-o',
        'null',
        '--no-log-file',
      ],
      runEnv(runTmp),
    );
    for (const run of [ssh, overHttps]) {
      expect(run.exitCode, run.stderr).toBe(4);
      // Read through ssh, the bytes went through a lossy UTF-8 decoding: the magic is still recognised.
      expect(run.stderr).toMatch(
        new RegExp(
          `^v2v: error: The VMX file \\S+${vmdk.replace('.', '\\.')} is not a text file: it looks like a sparse VMDK disk image \\(it starts with "KDMV`,
          'm',
        ),
      );
      expect(run.stderr).not.toContain('warning');
    }
  });
});
