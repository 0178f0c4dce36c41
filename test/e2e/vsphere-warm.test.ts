/**
 * A warm migration end to end (docs/warm-migration.md) against the project's
 * vSphere simulator (test/fixtures/vcsim: snapshots that freeze the base
 * disk, CBT by write tracking, ShutdownGuest with VMware Tools, the guest's
 * writes through NBD: vcsim/CBT.md), one VM made from the Debian test guest
 * plus a blank second disk, powered on, CBT off at first:
 *
 *  1. CBT off is refused with the fix, leaving the VM as it was;
 *  2. --enable-cbt, a first (full) pass killed with SIGKILL after a checkpoint,
 *     resumed from there into sparse pre-copies equal to the disks;
 *  3. the "guest" writes files (guestfish over the simulator's NBD channel);
 *     a second pass is killed (SIGKILL) while it copies;
 *  4. the next run, with a user's snapshot on the VM, removes v2v's
 *     crash-left snapshot but refuses to touch the user's;
 *  5. once it is gone, a pass continues from pass 1 and copies only what changed;
 *  6. a cut-over whose conversion fails (--root /dev/sdz) shuts the guest
 *     down, brings the pre-copy up to date and leaves it intact;
 *  7. the VM powered on again, the guest writes more; the cut-over converts
 *     with only the new delta copied, committing into the pre-copy (no second copy);
 *  8. the result boots with no NIC and holds every file written between passes.
 *
 * Bytes read from the datastore are counted by a TCP proxy in front of the
 * simulator (SOAP and TLS included: an upper bound of the data read).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFlatDisk, startCountingProxy, startVcsim, type CountingProxy, type SimStatus, type Vcsim } from '../../bench/vcsim.js';
import { VsphereSession } from '../../drivers/vsphere.js';
import { createSnapshotBody, powerOnBody, removeSnapshotBody } from '../../drivers/vsphere-snapshots.js';
import { parseReturnedMoRef } from '../../drivers/vsphere-soap.js';
import type { V2vEvent } from '../../src/progress/events.js';
import { bootDisk } from '../helpers/boot.js';
import { ensureFixture, runCachedBuild, type Fixture } from '../helpers/fixture.js';
import { markedProcessesAfter, startV2v } from '../helpers/live-run.js';
import { eventErrors } from '../helpers/machine-readable-schema.js';
import { splitOutputDir } from '../helpers/run-log.js';
import { guestfishRead, runV2v, sha256 } from '../helpers/v2v.js';

const MINUTE = 60_000;
const MiB = 2 ** 20;
const NAME = 'v2v-warm-debian12';
const USER = 'v2v-admin';
const PASSWORD = 'pw-Warm-77-never-shown';
const VCSIM_BUILD = fileURLToPath(new URL('../fixtures/build-vcsim.sh', import.meta.url));
const DISK2 = 64 * MiB;

let fixture: Fixture;
let sim: Vcsim;
let proxy: CountingProxy;
let work: string;
let runTmp: string;
let passwordFile: string;
let precopy: string;
/** Files the guest wrote, by path, with their sha256; and raw writes to the second disk. */
const files = new Map<string, string>();
const raw: Array<{ offset: number; data: Buffer }> = [];

const uri = (): string => `vpx://${USER}@127.0.0.1:${proxy.port}/DC0/DC0_H0?no_verify=1`;
const base = (): string[] => ['-ic', uri(), '-ip', passwordFile, NAME, '--warm', '--precopy-dir', precopy];
const runEnv = (): Record<string, string> => ({ TMPDIR: runTmp, LIBGUESTFS_CACHEDIR: '/var/tmp' });
const stateFile = (): string => join(precopy, `${NAME}.warm.json`);
const precopyOf = (key: number): string => join(precopy, `${NAME}.warm-${key}.raw`);

interface State {
  id: string;
  disks: Array<{ key: number; changeId?: string; partial?: { changeId: string; upTo: number } }>;
  passes: Array<{ number: number; bytesChanged: number; bytesRead: number; full: number[]; final: boolean }>;
  consumed?: boolean;
  completed?: string;
}
const readState = async (): Promise<State> => JSON.parse(await readFile(stateFile(), 'utf8')) as State;

/** The events of a --machine-readable=file: stream so far (a line still being written is left for later). */
async function events(path: string): Promise<V2vEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n');
  return lines.slice(0, -1).map((l) => JSON.parse(l) as V2vEvent);
}

/** One SOAP session on the simulator, as an administrator would use the vSphere client. */
async function asAdmin<T>(fn: (s: VsphereSession, vm: { type: string; value: string }) => Promise<T>): Promise<T> {
  const session = await VsphereSession.login({ host: '127.0.0.1', port: sim.port, noVerify: true }, USER, PASSWORD);
  try {
    const vm = { type: 'VirtualMachine', value: (await sim.status()).vm };
    return await fn(session, vm);
  } finally {
    await session.logout();
  }
}
async function task(s: VsphereSession, method: string, body: string): Promise<string | undefined> {
  const ref = parseReturnedMoRef(await s.call(method, body));
  const info = await s.waitForTask(ref!, method, MINUTE);
  if (info.state !== 'success') throw new Error(`${method}: ${info.error?.message}`);
  return info.result;
}

/** The guest writes files through the simulator's NBD export (guestfish on the VM's disk 0, as the running guest would). */
async function guestWrites(tag: string, binBytes: number): Promise<void> {
  const bin = join(work, `${tag}.bin`);
  await writeFile(bin, randomBytes(binBytes));
  const text = `${tag}: written while the VM ran, ${new Date().toISOString()}\n`;
  await writeFile(join(work, `${tag}.txt`), text);
  const status = await sim.status();
  await guestfishRead(
    status.disks[0]!.nbd!,
    'raw',
    [`upload ${bin} /root/${tag}.bin`, `upload ${join(work, `${tag}.txt`)} /root/${tag}.txt`, 'sync'].join('\n'),
    { writable: true },
  );
  files.set(`/root/${tag}.bin`, await sha256(bin));
  files.set(`/root/${tag}.txt`, await sha256(join(work, `${tag}.txt`)));
}

/** A raw guest write to the second disk. */
async function rawWrite(offset: number, data: Buffer): Promise<void> {
  await sim.write(1, offset, data);
  raw.push({ offset, data });
}

/** Whether a pre-copy file holds the same bytes as the simulator's base disk (the VM has no snapshot: the base is its state). */
async function sameAsBase(key: number, status: SimStatus): Promise<boolean> {
  const disk = status.disks.find((d) => d.key === key)!;
  const r = await execa('cmp', ['-s', disk.flat, precopyOf(key)], { reject: false });
  return r.exitCode === 0;
}

/** Bytes of the 64 KiB blocks (CBT's, in the simulator) holding data (qemu-img map) in a raw disk from `from` on. */
async function dataBytes(path: string, from: number): Promise<number> {
  const { stdout } = await execa('qemu-img', ['map', '--output=json', '-f', 'raw', path]);
  const block = 64 * 1024;
  const blocks = new Set<number>();
  for (const e of JSON.parse(stdout) as Array<{ start: number; length: number; data: boolean }>) {
    if (!e.data) continue;
    for (let b = Math.floor(Math.max(e.start, from) / block); b * block < e.start + e.length; b++) blocks.add(b);
  }
  return blocks.size * block;
}

/** Bytes allocated to a file. */
const allocated = async (path: string): Promise<number> => (await stat(path)).blocks * 512;

beforeAll(async () => {
  fixture = await ensureFixture();
  const vcsim = join(await runCachedBuild(VCSIM_BUILD), 'vcsim');
  work = await mkdtemp(join(tmpdir(), 'v2v-warm-e2e-'));
  runTmp = await mkdtemp('/var/tmp/warm-e2e-tmp-');
  precopy = join(runTmp, 'precopy');
  await mkdir(precopy);
  passwordFile = join(work, 'password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const mac = /^ethernet0\.generatedAddress = "([^"]+)"/m.exec(await readFile(fixture.vmx, 'utf8'))![1]!.toLowerCase();
  sim = await startVcsim({
    binary: vcsim,
    user: USER,
    passwordFile,
    name: NAME,
    mac,
    disk: await makeFlatDisk(fixture.vmdk, join(work, 'disk'), NAME),
    disk2: { capacity: DISK2 },
    flags: ['-power-on', '-shutdown-delay', '2s'],
    tmp: work,
  });
  proxy = await startCountingProxy(sim.port);
}, 20 * MINUTE);

afterAll(async () => {
  proxy?.close();
  await sim?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  if (runTmp) await rm(runTmp, { recursive: true, force: true });
});

/**
 * Starts a pre-copy pass throttled to `bandwidth` (as a cold copy's nbdkit:
 * it lasts seconds) and sends `signal` once its events show bytes copied.
 * Returns the run's exit code, stderr and mark, its TMPDIR removed.
 */
async function signalWhileCopying(
  name: string,
  bandwidth: string,
  signal: NodeJS.Signals,
): Promise<{ code: number; stderr: string; mark: string }> {
  const mr = join(work, `${name}.jsonl`);
  const live = await startV2v(
    [...base(), '--cutover', 'never', '-o', 'null', '--bandwidth', bandwidth, `--machine-readable=file:${mr}`],
    runEnv(),
  );
  try {
    const deadline = Date.now() + MINUTE;
    while (!(await events(mr)).some((e) => e.type === 'progress' && e.stage === 'precopy' && (e.progress?.done ?? 0) > 0)) {
      if (Date.now() > deadline) throw new Error(`no copy progress: ${live.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    live.child.kill(signal);
    return { code: await live.exited, stderr: live.stderr(), mark: live.mark };
  } finally {
    if (live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL');
    await rm(live.tmp, { recursive: true, force: true });
  }
}

describe('warm migration from vSphere (the project vcsim with CBT)', () => {
  it(
    'refuses a VM without change tracking, naming the fix, and changes nothing',
    async () => {
      const run = await runV2v([...base(), '--cutover', 'never', '-o', 'null'], runEnv());
      expect(run.exitCode, run.stderr).toBe(3);
      expect(run.stderr).toMatch(
        new RegExp(
          `^v2v: error: Changed Block Tracking is off for the VM "${NAME}".*turn it on .*ctkEnabled = TRUE.*or pass --enable-cbt`,
          'm',
        ),
      );
      const status = await sim.status();
      expect(status).toMatchObject({ powerState: 'poweredOn', cbt: { active: false, pending: false }, snapshots: [] });
      expect(await readdir(precopy)).toEqual([]);
      expect(`${run.stdout}${run.stderr}`).not.toContain(PASSWORD);
    },
    2 * MINUTE,
  );

  it(
    'turns CBT on when asked; a first pass killed (SIGKILL) after a checkpoint is resumed there: sparse pre-copies equal to the disks',
    async () => {
      await rawWrite(MiB + 100, randomBytes(256 * 1024));
      // Throttled to 50 MiB/s (--bandwidth, as a cold copy's nbdkit) so that it is killed after its first checkpoint (256 MiB).
      const killed = await startV2v([...base(), '--enable-cbt', '--cutover', 'never', '-o', 'null', '--bandwidth', '400M'], runEnv());
      let upTo = 0;
      try {
        const deadline = Date.now() + 2 * MINUTE;
        while (upTo === 0) {
          if (Date.now() > deadline) throw new Error(`no checkpoint: ${killed.stderr()}`);
          const partial = (await readState().catch(() => undefined))?.disks.find((d) => d.partial !== undefined)?.partial;
          if (partial !== undefined) upTo = partial.upTo;
          else await new Promise((r) => setTimeout(r, 50));
        }
        killed.child.kill('SIGKILL');
        await killed.exited;
      } finally {
        if (killed.child.exitCode === null && killed.child.signalCode === null) killed.child.kill('SIGKILL');
        await rm(killed.tmp, { recursive: true, force: true });
      }
      expect(killed.stderr()).toMatch(/warning: turned Changed Block Tracking on for "v2v-warm-debian12" \(--enable-cbt\)/);
      const killedState = await readState();
      expect(killedState.passes).toEqual([]);
      expect(upTo).toBeGreaterThanOrEqual(256 * MiB);
      expect((await sim.status()).snapshots.map((s) => s.name)).toEqual([`v2v-warm-${killedState.id}`]);

      const mr = join(work, 'pass1.jsonl');
      proxy.bytes = 0;
      const run = await runV2v([...base(), '--cutover', 'never', '-o', 'null', `--machine-readable=file:${mr}`], runEnv());
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).toMatch(
        new RegExp(`warning: removed the snapshot v2v-warm-${killedState.id} \\(snapshot-\\d+\\) that a killed v2v run`),
      );
      expect(run.stderr).toMatch(
        /warning: resuming the full copy of the disk \[LocalDS_0\] v2v-warm-debian12\/v2v-warm-debian12\.vmdk from /,
      );
      expect(run.stdout).toMatch(/^Pre-copied "v2v-warm-debian12" into .*: 1 pass\(es\) this run, 1 in all; the VM keeps running\.$/m);
      const state = await readState();
      // The first disk resumed (not "copied in full"), the second, never started, copied in full.
      expect(state.passes).toEqual([expect.objectContaining({ number: 1, full: [2001], final: false })]);
      expect(state.disks.map((d) => d.partial)).toEqual([undefined, undefined]);
      const status = await sim.status();
      expect(status).toMatchObject({ powerState: 'poweredOn', cbt: { active: true }, snapshots: [] });
      expect(state.disks.map((d) => d.changeId)).toEqual(status.disks.map((d) => d.changeId));
      for (const key of [2000, 2001]) expect(await sameAsBase(key, status), `disk ${key}`).toBe(true);
      // Resumed: the bytes below the checkpoint are not read again.
      const flatAllocated = await allocated(status.disks[0]!.flat);
      const pass1 = state.passes[0]!;
      console.log(
        `pass 1, resumed from ${upTo} bytes: ${pass1.bytesRead} read for ${flatAllocated} allocated; ${proxy.bytes} bytes through the proxy; ${run.seconds.toFixed(1)} s`,
      );
      const dataAbove = await dataBytes(status.disks[0]!.flat, upTo);
      expect(pass1.bytesRead).toBeLessThanOrEqual(dataAbove + (await dataBytes(status.disks[1]!.flat, 0)) + 64 * 1024);
      expect(dataAbove).toBeLessThan(flatAllocated - 200 * MiB); // what the checkpoint saved
      expect(proxy.bytes).toBeLessThanOrEqual(1.1 * pass1.bytesRead + 16 * MiB);
      // Sparse: the pre-copy allocates what the disk does.
      expect(await allocated(precopyOf(2000))).toBeLessThanOrEqual(flatAllocated + 4 * MiB);
      expect(await allocated(precopyOf(2001))).toBeLessThanOrEqual(512 * 1024);
      // Progress per pass, as schema-valid machine-readable events.
      const evs = await events(mr);
      for (const e of evs) expect(eventErrors(e), JSON.stringify(e)).toEqual([]);
      expect(evs.some((e) => e.type === 'progress' && e.stage === 'precopy' && (e.progress?.done ?? 0) > 0)).toBe(true);
      expect(evs.find((e) => e.pass !== undefined)).toMatchObject({ type: 'info', stage: 'precopy', pass: { number: 1, full: [2001] } });
      expect(evs.at(-1)).toMatchObject({ type: 'result', message: 'precopied', exitCode: 0 });
      // A broken event is refused: the check above can fail.
      expect(eventErrors({ ...evs.find((e) => e.pass !== undefined), pass: { number: 0 } })).not.toEqual([]);
    },
    4 * MINUTE,
  );

  it(
    'a pass stopped by SIGTERM removes its snapshot; one killed (SIGKILL) while it copies leaves it, the next run removes it, and only it, and continues from pass 1',
    async () => {
      const before = (await sim.status()).stats['guestBytesChanged']!;
      await guestWrites('warm-a', 6 * MiB);
      await rawWrite(8 * MiB, randomBytes(128 * 1024));
      // SIGTERM while a pass copies: the snapshot is removed on the way out, the pass is not counted.
      const term = await signalWhileCopying('terminated', '2M', 'SIGTERM');
      expect(term.code, term.stderr).toBe(130);
      expect((await sim.status()).snapshots).toEqual([]);
      expect((await readState()).passes).toHaveLength(1);

      // SIGKILL: nothing of its own cleanup runs; the next run finds what it left.
      const live = await signalWhileCopying('killed', '8M', 'SIGKILL');
      const state = await readState();
      expect(state.passes).toHaveLength(1);
      const left = (await sim.status()).snapshots;
      expect(left.map((s) => s.name)).toEqual([`v2v-warm-${state.id}`]);
      expect(await markedProcessesAfter(live.mark, 10_000)).toEqual([]);

      // A snapshot of the user's appears: v2v removes its own crash-left one, refuses to go on, leaves the user's.
      const userSnapshot = await asAdmin(async (s, vm) =>
        task(s, 'CreateSnapshot_Task', createSnapshotBody(vm, 'before-migration', 'the admin', false)),
      );
      const refused = await runV2v([...base(), '--cutover', 'never', '-o', 'null'], runEnv());
      expect(refused.exitCode, refused.stderr).toBe(3);
      expect(refused.stderr).toMatch(
        new RegExp(`warning: removed the snapshot v2v-warm-${state.id} \\(snapshot-\\d+\\) that a killed v2v run of this migration left`),
      );
      expect(refused.stderr).toMatch(
        /v2v: error: The VM "v2v-warm-debian12" has snapshots \("before-migration"\): .* v2v never removes a snapshot it did not make\./,
      );
      expect((await sim.status()).snapshots.map((s) => s.name)).toEqual(['before-migration']);
      await asAdmin(async (s) =>
        task(s, 'RemoveSnapshot_Task', removeSnapshotBody({ type: 'VirtualMachineSnapshot', value: userSnapshot! })),
      );

      // Continues from pass 1: pass 2 copies what changed since, not the disks.
      proxy.bytes = 0;
      const mr2 = join(work, 'pass2.jsonl');
      const resumed = await runV2v([...base(), '--cutover', 'never', '-o', 'null', `--machine-readable=file:${mr2}`], runEnv());
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/continuing from pass 1/);
      const after = await readState();
      const pass2 = after.passes.at(-1)!;
      expect(pass2).toMatchObject({ number: 2, full: [] });
      const changed = (await sim.status()).stats['guestBytesChanged']! - before;
      console.log(
        `pass 2: ${pass2.bytesChanged} bytes changed per CBT, the guest changed ${changed}; ${proxy.bytes} bytes through the proxy`,
      );
      expect(pass2.bytesChanged).toBeGreaterThanOrEqual(6 * MiB + 128 * 1024);
      expect(pass2.bytesChanged).toBeLessThanOrEqual(changed);
      expect(pass2.bytesRead).toBe(pass2.bytesChanged);
      expect(proxy.bytes).toBeLessThanOrEqual(1.1 * pass2.bytesRead + 16 * MiB);
      const status = await sim.status();
      expect(status.snapshots).toEqual([]);
      for (const key of [2000, 2001]) expect(await sameAsBase(key, status), `disk ${key}`).toBe(true);
      for (const e of await events(mr2)) expect(eventErrors(e), JSON.stringify(e)).toEqual([]);
    },
    5 * MINUTE,
  );

  it(
    'a cut-over whose conversion fails leaves the pre-copy intact and up to date, and the VM powered off',
    async () => {
      // Zeros over data the pre-copy holds, and new data.
      await rawWrite(MiB + 100, Buffer.alloc(64 * 1024));
      await rawWrite(32 * MiB, randomBytes(64 * 1024));
      const out = join(runTmp, 'out-failed');
      await mkdir(out);
      const run = await runV2v([...base(), '--cutover', 'now', '--root', '/dev/sdz', '-o', 'local', '-os', out], {
        ...runEnv(),
        LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg',
      });
      expect(run.exitCode, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/v2v: error: "--root \/dev\/sdz" is not a root the source disks hold/);
      expect(run.stderr).toMatch(/warning: the source VM "v2v-warm-debian12" was shut down for the cut-over and stays powered off/);
      expect(run.stderr).toMatch(/warning: the pre-copy in .* is kept, .*pass 4/);
      const state = await readState();
      expect(state.passes.slice(2).map((p) => [p.number, p.final, p.full])).toEqual([
        [3, false, []],
        [4, true, []],
      ]);
      expect(state.consumed).toBeUndefined();
      const status = await sim.status();
      expect(status).toMatchObject({ powerState: 'poweredOff', snapshots: [] });
      for (const key of [2000, 2001]) expect(await sameAsBase(key, status), `disk ${key}`).toBe(true);
      expect((await splitOutputDir(out)).files).toEqual([]);
    },
    6 * MINUTE,
  );

  it(
    'cuts over after the VM ran again: shutdown, only the new delta copied, converted by committing into the pre-copy; it boots with every write',
    async () => {
      await asAdmin(async (s, vm) => task(s, 'PowerOnVM_Task', powerOnBody(vm)));
      await guestWrites('warm-c', 2 * MiB);
      await rawWrite(5 * MiB, randomBytes(64 * 1024));
      const out = join(runTmp, 'out');
      await mkdir(out);
      const mr = join(work, 'cutover.jsonl');
      proxy.bytes = 0;
      // The guest writes once more while it shuts down (the simulator powers it off 2 s after ShutdownGuest): after the last live pass.
      let atRequest: number | undefined;
      let running = true;
      const shuttingDownWrite = (async () => {
        while (running && atRequest === undefined) {
          if ((await events(mr)).some((e) => e.cutover === 'shutdown-requested')) {
            atRequest = proxy.bytes;
            await rawWrite(40 * MiB, randomBytes(64 * 1024));
          } else await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const run = await runV2v([...base(), '--cutover', 'now', '-o', 'local', '-os', out, `--machine-readable=file:${mr}`], {
        ...runEnv(),
        LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg',
      });
      running = false;
      await shuttingDownWrite;
      expect(run.exitCode, run.stderr).toBe(0);
      expect(atRequest).toBeDefined();
      const evs = await events(mr);
      for (const e of evs) expect(eventErrors(e), JSON.stringify(e)).toEqual([]);
      const requested = evs.find((e) => e.cutover === 'shutdown-requested');
      expect(requested).toMatchObject({ type: 'info', stage: 'cutover' });
      const passes = evs.filter((e) => e.pass !== undefined).map((e) => e.pass!);
      expect(passes.map((p) => [p.number, p.final, p.full])).toEqual([
        [5, false, []],
        [6, true, []],
      ]);
      const result = evs.at(-1)!;
      const downtime = (Date.parse(result.timestamp) - Date.parse(requested!.timestamp)) / 1000;
      const duringCutover = proxy.bytes - atRequest!;
      console.log(
        `cut-over: live pass ${passes[0]!.bytesRead} bytes, final pass ${passes[1]!.bytesRead} bytes; ${proxy.bytes} bytes through the proxy, ${duringCutover} after the shutdown request; downtime ${downtime.toFixed(1)} s of ${run.seconds.toFixed(1)} s`,
      );
      // The live pass copied the guest's files; the final one exactly the block written during the shutdown.
      expect(passes[0]!.bytesChanged).toBeGreaterThanOrEqual(2 * MiB + 64 * 1024);
      expect(passes[1]).toMatchObject({ bytesChanged: 64 * 1024, bytesRead: 64 * 1024 });
      expect(proxy.bytes).toBeLessThanOrEqual(1.1 * (passes[0]!.bytesRead + passes[1]!.bytesRead) + 16 * MiB);
      expect(duringCutover).toBeLessThanOrEqual(1.1 * passes[1]!.bytesRead + 16 * MiB);
      expect(run.stdout).toMatch(/Committed disk 1\/2 into its pre-copy, now .* \(no second copy\)/);
      expect(run.stdout).toMatch(/The source VM "v2v-warm-debian12" is powered off \(v2v asked for it at .*\) and stays so/);
      const { files: written } = await splitOutputDir(out, NAME);
      expect(written).toEqual([`${NAME}-sda`, `${NAME}-sdb`, `${NAME}.xml`]);
      // The pre-copies became the output: nothing is left in the pre-copy directory but the record.
      expect(await readdir(precopy)).toEqual([`${NAME}.warm.json`]);
      expect((await readState()).completed).toEqual(expect.any(String));
      expect(await sim.status()).toMatchObject({ powerState: 'poweredOff', snapshots: [] });

      // Every raw write is on the second disk, in order (zeros over data included).
      const expected = Buffer.alloc(DISK2);
      for (const w of raw) w.data.copy(expected, w.offset);
      const sdb = await open(join(out, `${NAME}-sdb`));
      try {
        const got = Buffer.alloc(DISK2);
        await sdb.read(got, 0, DISK2, 0);
        expect(got.equals(expected)).toBe(true);
      } finally {
        await sdb.close();
      }
      // Every file the guest wrote between passes is in the converted guest, with its content.
      const listing = await guestfishRead(join(out, `${NAME}-sda`), 'raw', [...files.keys()].map((f) => `checksum sha256 ${f}`).join('\n'));
      expect(listing.trim().split('\n')).toEqual([...files.values()]);
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
    20 * MINUTE,
  );
});
