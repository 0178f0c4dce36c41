/**
 * The warm-migration benchmark, run by bench/compare-virt-v2v.ts (`--warm`,
 * the default; `--no-warm`; `--only-warm`): a cold v2v conversion against a
 * warm cut-over of the same VM, served by the project's vSphere simulator
 * (test/fixtures/vcsim: CBT by write tracking, snapshots, ShutdownGuest),
 * on two VM sizes made from the large guest (test/fixtures/build-large-guest.sh):
 *
 *   small  the boot disk (2 GiB, 0.7 GiB of data) + data2 (2 GiB, 0.5 GiB)
 *   large  the boot disk + data1 (8 GiB, 3.25 GiB of random data)
 *
 * Per size, on one simulator (the VM powered off, then on):
 *
 * 1. cold: `v2v -ic vpx://... VM -o local -of raw` of the powered-off VM:
 *    wall time;
 * 2. warm, first pass (`--warm --cutover never`, VM running): wall time, v2v's
 *    node peak RSS (the bench's sampler, as for every v2v run);
 * 3. warm cut-over (`--cutover now -o local -of raw`): a pass while the VM
 *    runs, then the shutdown; as soon as the shutdown is requested the
 *    "guest" writes N MiB of random data (`--warm-mib`, through the
 *    simulator's /v2v/write, before it powers off: -shutdown-delay 3s), which
 *    the final pass must copy. Measured: downtime (the shutdown request →
 *    the result event: output ready), the guest's own shutdown wait in it,
 *    inspect + convert + trim, the rest (v2v's cut-over overhead), the bytes
 *    read from the simulator after the shutdown request (the counting proxy:
 *    TLS and SOAP included), the bytes the guest changed after the last pass.
 *
 * Targets (printed, not asserted): bytes read during the cut-over ≤ 1.1 ×
 * bytes changed after the last pass + 16 MiB; downtime minus the conversion
 * stages ≤ 10 s on the large VM and not growing with the size; node peak
 * RSS < 200 MiB during passes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { VsphereSession } from '../drivers/vsphere.js';
import { powerOnBody } from '../drivers/vsphere-snapshots.js';
import { parseReturnedMoRef } from '../drivers/vsphere-soap.js';
import type { V2vEvent } from '../src/progress/events.js';
import type { BenchHelpers, ToolRun } from './types.js';
import { makeFlatDisk, startCountingProxy, startVcsim, type Vcsim } from './vcsim.js';

/** What warmBench is told. */
export interface WarmBenchOptions {
  work: string;
  /** MiB the guest writes after the last pass (during its shutdown). */
  mib: number;
  /** Which sizes (default both). */
  sizes: Array<'small' | 'large'>;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const USER = 'bench';
const NAME = 'v2v-warm-bench';
const SHUTDOWN_DELAY = '3s';
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const sec = (s: number) => `${s.toFixed(1)} s`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** One size's figures. */
interface SizeResult {
  size: string;
  virtual: number;
  allocated: number;
  cold: number;
  firstPass: number;
  firstPassNodeKiB: number;
  cutoverWall: number;
  cutoverNodeKiB: number;
  downtime: number;
  shutdownWait: number;
  conversion: number;
  finalPassBytes: number;
  readDuringCutover: number;
  guestChanged: number;
}

function readEvents(path: string): V2vEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as V2vEvent];
      } catch {
        return []; // a line being written
      }
    });
}

/** Runs the benchmark on each size and prints the figures and the targets. */
export async function warmBench(h: BenchHelpers, o: WarmBenchOptions): Promise<void> {
  const fixture = h.sh(join(h.ROOT, 'test/fixtures/build-large-guest.sh'), []).trim().split('\n').at(-1)!;
  const vcsim = join(h.sh(join(h.ROOT, 'test/fixtures/build-vcsim.sh'), []).trim().split('\n').at(-1)!, 'vcsim');
  console.log(`\n=== Warm migration: cold v2v vs warm cut-over, the large guest's disks served by the project's vcsim ===`);
  console.log(
    `  ${o.mib} MiB written by the guest after the last pass (during its shutdown, -shutdown-delay ${SHUTDOWN_DELAY}); -o local -of raw; load average ${load()}`,
  );
  const results: SizeResult[] = [];
  for (const size of o.sizes) {
    results.push(await oneSize(h, o, size, fixture, vcsim));
  }
  summarize(results, o.mib);
}

async function oneSize(h: BenchHelpers, o: WarmBenchOptions, size: 'small' | 'large', fixture: string, vcsim: string): Promise<SizeResult> {
  const dir = join(o.work, `warm-${size}`);
  mkdirSync(dir, { recursive: true });
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, 'bench-password\n', { mode: 0o600 });
  process.stderr.write(`bench: warm ${size}: laying the disks out as ESXi does ...\n`);
  const boot = await makeFlatDisk(join(fixture, 'guest.vmdk'), join(dir, 'disk'), NAME);
  const data = await makeFlatDisk(join(fixture, size === 'large' ? 'data1.vmdk' : 'data2.vmdk'), join(dir, 'disk'), `${NAME}_1`);
  const sim = await startVcsim({
    binary: vcsim,
    user: USER,
    passwordFile,
    name: NAME,
    mac: '00:50:56:3f:b0:01',
    disk: boot,
    disk2: { capacity: data.capacity, disk: data },
    flags: ['-cbt', '-shutdown-delay', SHUTDOWN_DELAY],
    tmp: dir,
  });
  const proxy = await startCountingProxy(sim.port);
  try {
    const status = await sim.status();
    const virtual = status.disks.reduce((a, d) => a + d.capacity, 0);
    const allocated = statSync(boot.flat).blocks * 512 + statSync(data.flat).blocks * 512;
    console.log(`\n  ${size}: ${(virtual / GiB).toFixed(1)} GiB virtual, ${mib(allocated)} allocated (2 disks)`);
    const uri = `vpx://${USER}@127.0.0.1:${proxy.port}/DC0/DC0_H0?no_verify=1`;
    const v2v = (args: string[]): string[] => ['node', join(h.ROOT, 'bin/v2v.js'), '-ic', uri, '-ip', passwordFile, NAME, ...args];

    // 1. Cold, the VM powered off.
    const coldOut = join(dir, 'cold');
    mkdirSync(coldOut);
    h.dropCaches();
    const cold = await run(h, 'cold', dir, v2v(['-o', 'local', '-os', coldOut, '-of', 'raw']));
    rmSync(coldOut, { recursive: true, force: true });
    console.log(`    cold v2v: ${sec(cold.wall)}`);

    // 2. The VM runs; the first pass.
    await powerOn(sim);
    const precopy = join(dir, 'precopy');
    mkdirSync(precopy);
    const warm = ['--warm', '--precopy-dir', precopy];
    const first = await run(h, 'first pass', dir, v2v([...warm, '--cutover', 'never', '-o', 'null']));
    console.log(
      `    warm first pass (full copy, VM running): ${sec(first.wall)}, v2v node peak ${(first.peakNodeKiB / 1024).toFixed(0)} MiB`,
    );

    // 3. The cut-over: the guest writes N MiB after the last pass, while it shuts down.
    const out = join(dir, 'warm-out');
    mkdirSync(out);
    const eventsFile = join(dir, 'cutover.jsonl');
    let atRequest: { bytes: number; changed: number } | undefined;
    let watching = true;
    const watcher = (async () => {
      while (watching && atRequest === undefined) {
        if (readEvents(eventsFile).some((e) => e.cutover === 'shutdown-requested')) {
          atRequest = { bytes: proxy.bytes, changed: (await sim.status()).stats['guestBytesChanged'] ?? 0 };
          const chunk = 8 * MiB;
          for (let at = 0; at < o.mib * MiB; at += chunk) {
            await sim.write(1, 256 * MiB + at, randomBytes(Math.min(chunk, o.mib * MiB - at)));
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    h.dropCaches();
    const cut = await run(
      h,
      'cut-over',
      dir,
      v2v([...warm, '--cutover', 'now', '-o', 'local', '-os', out, '-of', 'raw', `--machine-readable=file:${eventsFile}`]),
    );
    watching = false;
    await watcher;
    const evs = readEvents(eventsFile);
    const at = (e: V2vEvent | undefined): number => (e ? Date.parse(e.timestamp) : NaN);
    const requested = evs.find((e) => e.cutover === 'shutdown-requested');
    const off = evs.find((e) => e.cutover === 'powered-off');
    const result = evs.find((e) => e.type === 'result');
    const finalPass = evs.find((e) => e.pass?.final === true)?.pass;
    const stageSeconds = (key: string) => evs.find((e) => e.type === 'message' && e.stage === key && e.phase === 'end')?.seconds ?? 0;
    const conversion = stageSeconds('inspect') + stageSeconds('convert') + stageSeconds('trim');
    const changedAfter = atRequest ? ((await sim.status()).stats['guestBytesChanged'] ?? 0) - atRequest.changed : 0;
    const r: SizeResult = {
      size,
      virtual,
      allocated,
      cold: cold.wall,
      firstPass: first.wall,
      firstPassNodeKiB: first.peakNodeKiB,
      cutoverWall: cut.wall,
      cutoverNodeKiB: cut.peakNodeKiB,
      downtime: (at(result) - at(requested)) / 1000,
      shutdownWait: (at(off) - at(requested)) / 1000,
      conversion,
      finalPassBytes: finalPass?.bytesRead ?? NaN,
      readDuringCutover: atRequest ? proxy.bytes - atRequest.bytes : NaN,
      guestChanged: changedAfter,
    };
    console.log(
      `    warm cut-over: ${sec(r.cutoverWall)} in all; downtime ${sec(r.downtime)} (guest shutdown ${sec(r.shutdownWait)}, inspect+convert+trim ${sec(r.conversion)}, the rest ${sec(r.downtime - r.conversion - r.shutdownWait)})`,
    );
    console.log(
      `    read after the shutdown request: ${mib(r.readDuringCutover)} through the proxy (final pass ${mib(r.finalPassBytes)}), the guest changed ${mib(r.guestChanged)} after the last pass`,
    );
    return r;
  } finally {
    proxy.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(h: BenchHelpers, what: string, dir: string, argv: string[]): Promise<ToolRun> {
  process.stderr.write(`bench: warm: ${what} ...\n`);
  const r = await h.runCompared('v2v', `warm ${what}`, {
    logFile: join(dir, `${what.replace(/ /g, '-')}.log`),
    argv,
    env: { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
    nodeMatch: /bin\/v2v\.js/,
  });
  if (r === undefined) throw new Error(`v2v failed: ${what}`);
  return r;
}

/** Powers the simulator's VM on, as its administrator would (PowerOnVM_Task). */
async function powerOn(sim: Vcsim): Promise<void> {
  const session = await VsphereSession.login({ host: '127.0.0.1', port: sim.port, noVerify: true }, USER, 'bench-password');
  try {
    const vm = { type: 'VirtualMachine', value: (await sim.status()).vm };
    const task = parseReturnedMoRef(await session.call('PowerOnVM_Task', powerOnBody(vm)));
    if (task === undefined) throw new Error('PowerOnVM_Task started no task');
    const info = await session.waitForTask(task, 'powering on', 60_000);
    if (info.state !== 'success') throw new Error(`PowerOnVM_Task: ${info.error?.message}`);
  } finally {
    await session.logout();
  }
}

function summarize(results: SizeResult[], mibWritten: number): void {
  console.log(`\n  Warm migration summary (${mibWritten} MiB written after the last pass):`);
  console.log(
    `    ${'size'.padEnd(6)} ${'virtual'.padStart(8)} ${'cold'.padStart(8)} ${'downtime'.padStart(9)} ${'shutdown'.padStart(9)} ${'conv.'.padStart(7)} ${'rest'.padStart(6)} ${'read'.padStart(10)} ${'changed'.padStart(10)} ${'node peak'.padStart(10)}`,
  );
  for (const r of results) {
    console.log(
      `    ${r.size.padEnd(6)} ${`${(r.virtual / GiB).toFixed(1)} GiB`.padStart(8)} ${sec(r.cold).padStart(8)} ${sec(r.downtime).padStart(9)} ${sec(r.shutdownWait).padStart(9)} ${sec(r.conversion).padStart(7)} ${sec(r.downtime - r.conversion - r.shutdownWait).padStart(6)} ${mib(r.readDuringCutover).padStart(10)} ${mib(r.guestChanged).padStart(10)} ${`${(Math.max(r.firstPassNodeKiB, r.cutoverNodeKiB) / 1024).toFixed(0)} MiB`.padStart(10)}`,
    );
  }
  for (const r of results) {
    const readOk = r.readDuringCutover <= 1.1 * r.guestChanged + 16 * MiB;
    console.log(
      `    ${r.size}: read during the cut-over ${mib(r.readDuringCutover)} <= 1.1 x ${mib(r.guestChanged)} + 16 MiB: ${verdict(readOk)}; downtime - (inspect+convert+trim) ${sec(r.downtime - r.conversion)} <= 10 s: ${verdict(r.downtime - r.conversion <= 10)} (of which the simulated guest shutdown ${sec(r.shutdownWait)}); node peak during the first pass ${(r.firstPassNodeKiB / 1024).toFixed(0)} MiB < 200 MiB: ${verdict(r.firstPassNodeKiB > 0 && r.firstPassNodeKiB < 200 * 1024)}`,
    );
  }
  if (results.length === 2) {
    const [a, b] = results as [SizeResult, SizeResult];
    const grow = b.downtime - b.conversion - (a.downtime - a.conversion);
    console.log(
      `    downtime - conversion, ${a.size} → ${b.size} (${(a.virtual / GiB).toFixed(1)} → ${(b.virtual / GiB).toFixed(1)} GiB): ${sec(a.downtime - a.conversion)} → ${sec(b.downtime - b.conversion)} (${grow >= 0 ? '+' : ''}${grow.toFixed(1)} s); not growing with the size (within 2 s): ${verdict(grow <= 2)}`,
    );
  }
}
