/**
 * The large-guest benchmark of issue #14, run by bench/compare-virt-v2v.ts
 * (`--large`, the default; `--no-large`; `--only-large`).
 *
 * The guest: the BIOS Debian fixture plus an 8 GiB data disk holding
 * 3.25 GiB of random data and a 2 GiB one holding 512 MiB
 * (test/fixtures/build-large-guest.sh, cached). Measured:
 *
 * 1. v2v and virt-v2v converting it (`-i vmx -o local -of qcow2`), N rounds,
 *    alternating which goes first, the page cache dropped before each run:
 *    wall time, copy-stage time, bytes written, node peak RSS.
 * 2. The plain baseline: the same source disks copied by a plain `qemu-img
 *    convert -O qcow2`, one after another (before the set, the page cache
 *    dropped and memory settled as a conversion's copy stage finds it:
 *    compare-virt-v2v's settleMemory), each target `fdatasync`ed after its
 *    copy as v2v's copy stage does (qemu-img convert exits with gigabytes
 *    still in the page cache): v2v's copy throughput (bytes it wrote / its
 *    copy stage) against that one's (bytes written / time to durable). The
 *    time to exit is printed too.
 * 3. Parallel against one-at-a-time: v2v's exact copy argv on qcow2 overlays
 *    over the three disks, all at once (as the copy stage runs them today)
 *    and one after another, each target flushed after its copy (memory
 *    settled before each, as for 2).
 *
 * The helpers it runs with (runCompared, dropCaches, ...) are compare-virt-v2v's
 * own, handed over by its caller, so both benchmarks measure the same way.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { V2vEvent } from '../src/progress/events.js';
import type { BenchHelpers, RunSpec, Settled, ToolRun } from './types.js';

/** What largeGuestBench is told: rounds (also the reps of each copy figure, at least 1), the work dir, whether v2v has --machine-readable. */
export interface LargeOptions {
  rounds: number;
  work: string;
  machineReadable: boolean;
}

/** One disk of the large fixture. */
interface Disk {
  name: string;
  path: string;
  virtual: number;
  allocated: number;
}

/** One conversion of the large guest. */
interface LargeRun extends ToolRun {
  tool: string;
  round: number;
  order?: string;
  copy: number;
  written: number;
  perDisk: Array<{ disk: number; seconds: number }>;
}

/** The plain baseline's medians and runs. */
interface Plain {
  seconds: number;
  exit: number;
  times: number[];
  written: number;
}

/** Medians of v2v's copy argv on the three overlays, all at once and one at a time. */
interface Modes {
  parallel: number;
  sequential: number;
}

/** The disks of the large fixture, in the order of its .vmx (sda, sdb, sdc). */
const DISKS = ['guest.vmdk', 'data1.vmdk', 'data2.vmdk'];

/** v2v's copy argv for one disk (drivers/qemu-img.ts convertCommand, qcow2 target, sparse). */
const v2vCopyArgs = (overlay: string, target: string): string[] => [
  'convert',
  '-p',
  '-W',
  '-m',
  '8',
  '-f',
  'qcow2',
  '-O',
  'qcow2',
  '-o',
  'compat=1.1',
  overlay,
  target,
];
/** The plain copy of a source disk. */
const plainCopyArgs = (vmdk: string, target: string): string[] => ['convert', '-f', 'vmdk', '-O', 'qcow2', vmdk, target];

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;
const rate = (bytes: number, seconds: number) => `${(bytes / MiB / seconds).toFixed(0)} MiB/s`;
const sec = (s: number) => `${s.toFixed(1)} s`;
const kib2mib = (k: number | undefined) => (k ? `${(k / 1024).toFixed(0)} MiB` : 'n/a');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * Runs the large-guest benchmark; prints as it goes and a summary with the
 * targets. `h`: compare-virt-v2v's helpers; `o`: { rounds (also the reps of
 * each copy figure, at least 1), work, machineReadable }.
 */
export async function largeGuestBench(h: BenchHelpers, o: LargeOptions): Promise<void> {
  const fixture = h.sh(join(h.ROOT, 'test/fixtures/build-large-guest.sh'), []).trim().split('\n').at(-1)!;
  const vmx = join(fixture, 'guest.vmx');
  const disks = DISKS.map((name): Disk => {
    const path = join(fixture, name);
    const info = JSON.parse(h.sh('qemu-img', ['info', '--output=json', path])) as { 'virtual-size': number };
    return { name, path, virtual: info['virtual-size'], allocated: statSync(path).blocks * 512 };
  });
  const sourceAlloc = disks.reduce((a, d) => a + d.allocated, 0);
  console.log(`\n=== Large guest: ${vmx} ===`);
  for (const d of disks) console.log(`  ${d.name.padEnd(11)} ${gib(d.virtual)} virtual, ${mib(d.allocated)} allocated`);
  console.log(
    `  total ${mib(sourceAlloc)} allocated; ${o.rounds} round(s) per tool, alternating order, page cache dropped before each run`,
  );
  if (o.rounds > 0)
    console.log(
      `  ${h.sh('virt-v2v', ['--version']).trim()} (LIBGUESTFS_BACKEND_SETTINGS=force_tcg, copies with nbdcopy); load average ${load()}`,
    );
  const dropped = h.dropCaches();
  if (!dropped) console.log('  page cache: NOT dropped (needs root): figures include cache effects');

  const runs: LargeRun[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? ['v2v', 'virt-v2v'] : ['virt-v2v', 'v2v'];
    for (const [pos, tool] of order.entries()) {
      const run = await convertOnce(h, o, vmx, tool, round);
      if (run === undefined) continue; // virt-v2v failed: said, left out
      run.order = pos === 0 ? 'first' : 'second';
      runs.push(run);
      printRun(run);
    }
  }

  const plain = await plainBaseline(h, o, disks);
  const modes = await parallelVsSequential(h, o, disks);
  summarize(runs, plain, modes, sourceAlloc);
}

// ---------------------------------------------------------------- conversions

async function convertOnce(h: BenchHelpers, o: LargeOptions, vmx: string, tool: string, round: number): Promise<LargeRun | undefined> {
  const out = join(o.work, `large-${tool}-r${round}`);
  mkdirSync(out);
  const eventsFile = join(o.work, `large-${tool}-r${round}.events.jsonl`);
  process.stderr.write(`bench: large guest, round ${round}: ${tool} → ${out} ...\n`);
  const spec: Omit<RunSpec, 'logFile'> =
    tool === 'v2v'
      ? {
          argv: [
            'node',
            join(h.ROOT, 'bin/v2v.js'),
            '-i',
            'vmx',
            vmx,
            '-o',
            'local',
            '-os',
            out,
            '-of',
            'qcow2',
            ...(o.machineReadable ? [`--machine-readable=file:${eventsFile}`] : []),
          ],
          env: {},
          nodeMatch: /bin\/v2v\.js/,
        }
      : {
          argv: ['virt-v2v', '-i', 'vmx', vmx, '-o', 'local', '-os', out, '-of', 'qcow2'],
          env: { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
        };
  h.dropCaches();
  try {
    const run = await h.runCompared(tool, `large round ${round}`, { logFile: join(o.work, `large-${tool}-r${round}.log`), ...spec });
    if (run === undefined) return undefined; // virt-v2v failed: said by runCompared
    const parsed = tool === 'v2v' ? h.v2vStarts(run, o.machineReadable ? eventsFile : undefined) : h.virtV2vStarts(run);
    const { groups } = h.durations(parsed.starts, parsed.end, run.wall);
    const written = diskFiles(out).reduce((a, f) => a + statSync(f).blocks * 512, 0);
    const perDisk = tool === 'v2v' && o.machineReadable ? diskFinishTimes(eventsFile) : [];
    return { tool, round, ...run, copy: groups.copy, written, perDisk };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The disk images of an output directory (not its metadata). */
function diskFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !/\.(xml|sh|json|yaml)$/.test(f))
    .map((f) => join(dir, f));
}

/**
 * When each disk's copy reached 100 %, in seconds after the copy stage
 * started, from v2v's progress events (`progress.disk`: 1-based).
 */
export function diskFinishTimes(eventsFile: string): Array<{ disk: number; seconds: number }> {
  if (!existsSync(eventsFile)) return [];
  const events = readFileSync(eventsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as V2vEvent);
  const start = events.find((e) => e.type === 'message' && e.stage === 'copy' && e.phase === 'start');
  if (!start) return [];
  const t0 = Date.parse(start.timestamp);
  const done = new Map<number, number>();
  for (const e of events) {
    const p = e.type === 'progress' ? e.progress : undefined;
    if (!p || p.percent < 100 || done.has(p.disk)) continue;
    done.set(p.disk, (Date.parse(e.timestamp) - t0) / 1000);
  }
  return [...done].sort((a, b) => a[0] - b[0]).map(([disk, seconds]) => ({ disk, seconds }));
}

function printRun(r: LargeRun): void {
  console.log(
    `\n  ${r.tool} round ${r.round} (${r.order}): wall ${sec(r.wall)}, copy stage ${sec(r.copy)}, ` +
      `${mib(r.written)} written (${rate(r.written, r.copy)}), load avg ${r.load.toFixed(2)} → ${r.loadEnd.toFixed(2)}`,
  );
  if (r.perDisk.length > 0)
    console.log(`    disks done at ${r.perDisk.map((d) => `#${d.disk} ${sec(d.seconds)}`).join(', ')} into the copy stage`);
  console.log(
    `    memory: process tree peak ${kib2mib(r.peakTreeKiB)}; largest process ${kib2mib(r.maxProcKiB)}` +
      `${r.tool === 'v2v' ? `; v2v node process peak ${kib2mib(r.peakNodeKiB)}` : ''}` +
      `${r.leftovers.length ? `; LEFTOVER processes stopped: ${r.leftovers.join(', ')}` : ''}`,
  );
}

// ---------------------------------------------------------------- copies

/**
 * Runs `qemu-img ARGS` (each of `jobs` at once), each job's target (its last
 * argument) flushed right after it exits with v2v's copy-stage flush (`h.flushToStorage`);
 * resolves to { exit, durable }: wall seconds until the last qemu-img exited
 * and until the last target was on disk.
 */
async function qemuImgAll(h: BenchHelpers, jobs: string[][]): Promise<{ exit: number; durable: number }> {
  const t0 = performance.now();
  let exit = 0;
  await Promise.all(
    jobs.map(
      (args) =>
        new Promise<void>((resolveJob, reject) => {
          const child = spawn('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (b: Buffer) => {
            err += b.toString();
          });
          child.on('error', reject);
          child.on('close', (code) => {
            if (code !== 0) return reject(new Error(`qemu-img ${args.join(' ')} failed (${code}): ${err}`));
            exit = Math.max(exit, performance.now() - t0);
            // v2v's own flush (stages/copy.ts): it reports a disk copied only once it is durable.
            h.flushToStorage(args.at(-1)!).then(resolveJob, reject);
          });
        }),
    ),
  );
  return { exit: exit / 1000, durable: (performance.now() - t0) / 1000 };
}

/** How long a rep waited for freed memory to be reported to the host, when it did. */
const settledNote = (s: Settled) => (s.waited > 0 ? `; settled ${sec(s.waited)} (${s.reportedMiB} MiB reported to the host)` : '');

/**
 * The plain sequential read+write of the same disks: `qemu-img convert -O
 * qcow2` of each source VMDK, one after another, each target flushed after
 * its copy, the page cache dropped and memory settled before the set;
 * `o.rounds` times, median.
 */
async function plainBaseline(h: BenchHelpers, o: LargeOptions, disks: Disk[]): Promise<Plain> {
  const reps = Math.max(1, o.rounds);
  console.log(
    `\n  plain baseline: qemu-img convert -f vmdk -O qcow2 of each disk, one after another, each fdatasync'ed, memory settled first (${reps} rep(s)); load average ${load()}`,
  );
  const times: number[] = [];
  const exits: number[] = [];
  let written = 0;
  for (let r = 0; r < reps; r++) {
    const targets = disks.map((d) => join(o.work, `plain-${d.name}.qcow2`));
    const settled = await h.settleMemory();
    let seconds = 0;
    let exit = 0;
    for (const [i, d] of disks.entries()) {
      const t = await qemuImgAll(h, [plainCopyArgs(d.path, targets[i]!)]);
      seconds += t.durable;
      exit += t.exit;
    }
    written = targets.reduce((a, t) => a + statSync(t).blocks * 512, 0);
    for (const t of targets) rmSync(t, { force: true });
    times.push(seconds);
    exits.push(exit);
    console.log(
      `    rep ${r + 1}: ${sec(seconds)} to durable (${sec(exit)} of it until qemu-img exited), ${mib(written)} written (${rate(written, seconds)} durable)${settledNote(settled)}`,
    );
  }
  return { seconds: median(times), exit: median(exits), times, written };
}

/**
 * v2v's copy argv on fresh qcow2 overlays over the three disks (as the
 * overlay stage makes them): all at once, and one after another; the page
 * cache dropped before each; alternating which goes first.
 */
async function parallelVsSequential(h: BenchHelpers, o: LargeOptions, disks: Disk[]): Promise<Modes> {
  const reps = Math.max(1, o.rounds);
  console.log(
    `\n  parallel vs one at a time: v2v's copy argv (-p -W -m 8) on overlays over the 3 disks, each target fdatasync'ed (${reps} rep(s)); load average ${load()}`,
  );
  const overlays = disks.map((d) => join(o.work, `overlay-${d.name}.qcow2`));
  for (const [i, d] of disks.entries()) {
    // Same creation command as drivers/qemu-img.ts createOverlayCommand.
    h.sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1,lazy_refcounts=on', '-F', 'vmdk', '-b', d.path, overlays[i]!]);
  }
  const modes: Record<keyof Modes, Array<{ seconds: number; written: number }>> = { parallel: [], sequential: [] };
  try {
    for (let r = 0; r < reps; r++) {
      const order: Array<keyof Modes> = r % 2 === 0 ? ['parallel', 'sequential'] : ['sequential', 'parallel'];
      for (const mode of order) {
        const targets = disks.map((d) => join(o.work, `${mode}-${d.name}.qcow2`));
        const jobs = overlays.map((ov, i) => v2vCopyArgs(ov, targets[i]!));
        const settled = await h.settleMemory();
        let seconds = 0;
        if (mode === 'parallel') seconds = (await qemuImgAll(h, jobs)).durable;
        else for (const job of jobs) seconds += (await qemuImgAll(h, [job])).durable;
        const written = targets.reduce((a, t) => a + statSync(t).blocks * 512, 0);
        for (const t of targets) rmSync(t, { force: true });
        modes[mode].push({ seconds, written });
        console.log(
          `    rep ${r + 1} ${mode.padEnd(10)} ${sec(seconds)}, ${mib(written)} written (${rate(written, seconds)})${settledNote(settled)}`,
        );
      }
    }
  } finally {
    for (const ov of overlays) rmSync(ov, { force: true });
  }
  return {
    parallel: median(modes.parallel.map((m) => m.seconds)),
    sequential: median(modes.sequential.map((m) => m.seconds)),
  };
}

// ---------------------------------------------------------------- summary

function summarize(runs: LargeRun[], plain: Plain, modes: Modes, sourceAlloc: number): void {
  const of = (tool: string) => runs.filter((r) => r.tool === tool);
  const a = of('v2v');
  const b = of('virt-v2v');
  console.log(`\n=== Large guest summary (medians; ${mib(sourceAlloc)} allocated in 3 disks) ===`);
  console.log(`  ${''.padEnd(24)}${'v2v'.padStart(12)}${'virt-v2v'.padStart(12)}${'ratio'.padStart(9)}`);
  // x: a v2v median, so only called when v2v ran
  const row = (label: string, x: number | undefined, y: number | undefined, fmt: (n: number) => string) =>
    console.log(
      `  ${label.padEnd(24)}${fmt(x!).padStart(12)}${(y === undefined ? '-' : fmt(y)).padStart(12)}${(y ? (x! / y).toFixed(2) : '-').padStart(9)}`,
    );
  const med = (rs: LargeRun[], f: (r: LargeRun) => number) => (rs.length > 0 ? median(rs.map(f)) : undefined);
  const wallA = med(a, (r) => r.wall);
  const wallB = med(b, (r) => r.wall);
  if (a.length > 0) {
    row('wall time', wallA, wallB, sec);
    row(
      'copy stage',
      med(a, (r) => r.copy),
      med(b, (r) => r.copy),
      sec,
    );
    row(
      'written',
      med(a, (r) => r.written),
      med(b, (r) => r.written),
      mib,
    );
    row(
      'tree peak RSS',
      med(a, (r) => r.peakTreeKiB),
      med(b, (r) => r.peakTreeKiB),
      kib2mib,
    );
  }
  console.log(
    `  plain qemu-img convert, one disk after another, each flushed: ${sec(plain.seconds)} to durable (${sec(plain.exit)} to exit), ${mib(plain.written)} written (${rate(plain.written, plain.seconds)})`,
  );
  console.log(
    `  v2v's copy argv on the 3 overlays: all at once ${sec(modes.parallel)}, one at a time ${sec(modes.sequential)} ` +
      `(parallel/sequential time ${(modes.parallel / modes.sequential).toFixed(2)})`,
  );
  console.log('\n  Targets (issue #14, large guest):');
  if (a.length > 0) {
    const copyA = med(a, (r) => r.copy)!;
    const throughput = med(a, (r) => r.written)! / copyA / (plain.written / plain.seconds);
    console.log(
      `    copy throughput v2v/plain  ${throughput.toFixed(2)} (target >= 0.95; both to durable): ${verdict(throughput >= 0.95)}`,
    );
    if (wallB !== undefined)
      console.log(`    wall time v2v/virt-v2v     ${(wallA! / wallB).toFixed(2)} (target <= 0.50): ${verdict(wallA! / wallB <= 0.5)}`);
    else console.log('    wall time v2v/virt-v2v     not judged: no virt-v2v run finished (above)');
    const node = Math.max(...a.map((r) => r.peakNodeKiB));
    console.log(`    v2v node process peak      ${kib2mib(node)} (target < 200 MiB): ${verdict(node > 0 && node < 200 * 1024)}`);
  } else {
    console.log('    no conversion rounds (--large-rounds 0): only the copy figures above');
  }
}
