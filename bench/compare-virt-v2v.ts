#!/usr/bin/env node
/**
 * Benchmark: v2v against the system's virt-v2v, on the same fixtures (the
 * BIOS test guest and the UEFI+LVM guest, built and cached by the test
 * fixture scripts when missing), same input (-i vmx) and output (-o local
 * -of qcow2), N rounds per guest alternating which tool goes first. Prints
 * per-stage times, wall time, peak memory, output allocated size and, per
 * guest, the ratios v2v/virt-v2v against issue #14's targets; then the copy
 * throughput of v2v's exact `qemu-img convert` argv against a plain
 * `qemu-img convert -O qcow2` of the same kind of overlay (first guest).
 *
 * Compiled with v2v (`npm run build`, to dist/bench/; `npm run bench` builds
 * and runs it), no dependencies. Runs the BUILT v2v (`node bin/v2v.js`).
 * Linux only (/proc). Everything it writes lives
 * in one temporary directory under --workdir, removed at the end, on
 * failure and on SIGINT/SIGTERM; every process a run started (found by an
 * environment tag, daemonized or not) is stopped.
 *
 * Last, the cost of `--verify` (checksum and boot), from one more v2v
 * conversion run with `--verify`: the times its verify events report.
 * `--only-verify-cost` runs only that (no virt-v2v needed).
 *
 *   node dist/bench/compare-virt-v2v.js [--guest bios|uefi|all] [--rounds N]
 *                                       [--copy-reps N] [--no-copy]
 *                                       [--no-verify-cost | --only-verify-cost]
 *                                       [--fixture DIR] [--workdir DIR]
 *                                       [--no-large | --only-large] [--large-rounds N]
 *                                       [--no-warm | --only-warm] [--warm-mib N] [--warm-size small|large|both]
 *
 * Then the warm migration (bench/warm.ts): a cold v2v conversion against a
 * warm cut-over of the same VM served by the project's vSphere simulator,
 * on two sizes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
// v2v's own copy-stage flush makes a copied target durable: every copy figure
// is timed to the same point as v2v's copy stage.
import { flushToStorage } from '../src/output/flush.js';
import type { V2vEvent } from '../src/progress/events.js';
import { largeGuestBench } from './large-guest.js';
import { warmBench } from './warm.js';
import {
  GROUPS,
  type Group,
  type Groups,
  type ParsedStages,
  type RunSpec,
  type Settled,
  type Stage,
  type StageStart,
  type StampedLine,
  type ToolRun,
  type ToolSpec,
  type TracedCommand,
} from './types.js';

/** The repository (this file runs as dist/bench/compare-virt-v2v.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const TAG_ENV = 'V2V_BENCH_TAG';
/** How often /proc is sampled for memory (ms). */
const SAMPLE_MS = 250;

/** A guest compared: its fixture script, run with `env`; `espStub`: add an ESP grub.cfg stub for virt-v2v (withEspGrubStub). */
interface GuestDef {
  label: string;
  script: string;
  env?: Record<string, string>;
  espStub?: boolean;
}

type GuestKey = 'bios' | 'uefi';

/** The guests compared: each fixture script builds its guest once and prints its cached directory. */
const GUESTS: Record<GuestKey, GuestDef> = {
  bios: { label: 'BIOS test guest (Debian 12, ext4 root)', script: 'test/fixtures/build-debian-guest.sh' },
  // Its plain-module variant: virt-v2v 2.2.0 (libguestfs 1.48) fails on the .ko.zst one uefi-lvm.test.ts converts
  // ("file_architecture: unknown architecture: .../kvm.ko.zst").
  uefi: {
    label: 'UEFI+LVM guest (Debian 12, ESP, /boot, LVM root; .ko modules)',
    script: 'test/fixtures/build-debian-uefi-lvm-guest.sh',
    env: { V2V_UEFI_MODULES: 'plain' },
    espStub: true,
  },
};

// ---------------------------------------------------------------- options

interface Options {
  guest: string | undefined;
  rounds: number;
  copyReps: number;
  copy: boolean;
  verifyCost: boolean;
  large: boolean;
  largeRounds: number;
  warm: boolean;
  warmMib: number;
  warmSizes: Array<'small' | 'large'>;
  fixture: string | undefined;
  workdir: string;
  /** The guests --guest names, in order. */
  guests: GuestKey[];
}

/** A guest's fixture: its guest.vmx and guest.vmdk. */
interface Fixture {
  key: GuestKey;
  label: string;
  vmx: string;
  vmdk: string;
}

function usage(code: number): never {
  process.stdout.write(`Usage: node dist/bench/compare-virt-v2v.js [options]   (npm run bench -- [options]: built first)
  --guest G       bios, uefi or all (default all): the guests compared, each
                  its own rounds and targets; the copy figure and the --verify
                  cost use the first one (bios)
  --rounds N      conversions per tool and guest, alternating which goes first
                  (default 2; 0: none). Ctrl-C prints what was measured so far
  --copy-reps N   repetitions of each qemu-img convert variant (default 5)
  --no-copy       skip the qemu-img copy-throughput figure
  --no-verify-cost  skip the --verify cost (one more v2v conversion, with --verify)
  --only-verify-cost  only the --verify cost: no virt-v2v comparison, no copy
                  figure (= --rounds 0 --no-copy; ~4 min under TCG)
  --large         the large-guest benchmark (bench/large-guest.ts; the default)
  --no-large      skip it
  --only-large    only it (= --rounds 0 --no-copy --no-verify-cost)
  --large-rounds N  its conversions per tool (default 2; also its copy reps)
  --warm          the warm-migration benchmark (bench/warm.ts; the default)
  --no-warm       skip it
  --only-warm     only it (= --rounds 0 --no-copy --no-verify-cost --no-large; no virt-v2v needed)
  --warm-mib N    MiB the guest writes after the last pre-copy pass (default 64)
  --warm-size S   small, large or both (default both)
  --fixture DIR   directory holding guest.vmx + guest.vmdk, used for the one
                  guest --guest names (default bios; not with --guest all)
                  (default: what the guest's test/fixtures script prints,
                  building the guest first if it is not cached)
  --workdir DIR   where the temporary directory goes (default $TMPDIR or /var/tmp)
`);
  process.exit(code);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    guest: undefined,
    rounds: 2,
    copyReps: 5,
    copy: true,
    verifyCost: true,
    large: true,
    largeRounds: 2,
    warm: true,
    warmMib: 64,
    warmSizes: ['small', 'large'],
    fixture: undefined,
    workdir: process.env.TMPDIR || '/var/tmp',
    guests: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(2);
    switch (flag) {
      case '--guest':
        o.guest = value();
        break;
      case '--rounds':
        o.rounds = positiveInt(flag, value(), 0);
        break;
      case '--copy-reps':
        o.copyReps = positiveInt(flag, value());
        break;
      case '--no-copy':
        o.copy = false;
        break;
      case '--no-verify-cost':
        o.verifyCost = false;
        break;
      case '--only-verify-cost':
        o.rounds = 0;
        o.copy = false;
        o.verifyCost = true;
        o.large = false;
        o.warm = false;
        break;
      case '--large':
        o.large = true;
        break;
      case '--no-large':
        o.large = false;
        break;
      case '--only-large':
        o.rounds = 0;
        o.copy = false;
        o.verifyCost = false;
        o.large = true;
        o.warm = false;
        break;
      case '--warm':
        o.warm = true;
        break;
      case '--no-warm':
        o.warm = false;
        break;
      case '--only-warm':
        o.rounds = 0;
        o.copy = false;
        o.verifyCost = false;
        o.large = false;
        o.warm = true;
        break;
      case '--warm-mib':
        o.warmMib = positiveInt(flag, value());
        break;
      case '--warm-size': {
        const size = value();
        if (size !== 'small' && size !== 'large' && size !== 'both') {
          process.stderr.write(`bench: --warm-size wants small, large or both, got "${size}"\n`);
          process.exit(2);
        }
        o.warmSizes = size === 'both' ? ['small', 'large'] : [size];
        break;
      }
      case '--large-rounds':
        o.largeRounds = positiveInt(flag, value(), 0);
        break;
      case '--fixture':
        o.fixture = resolve(value());
        break;
      case '--workdir':
        o.workdir = resolve(value());
        break;
      case '-h':
      case '--help':
        usage(0);
        break;
      default:
        process.stderr.write(`bench: unknown option ${argv[i]}\n`);
        usage(2);
    }
  }
  o.guest ??= o.fixture ? 'bios' : 'all';
  if (o.guest !== 'all' && !isGuestKey(o.guest)) {
    process.stderr.write(`bench: --guest wants bios, uefi or all, got "${o.guest}"\n`);
    process.exit(2);
  }
  if (o.fixture && o.guest === 'all') {
    process.stderr.write('bench: --fixture replaces one guest: give --guest bios or --guest uefi with it\n');
    process.exit(2);
  }
  o.guests = o.guest === 'all' ? (Object.keys(GUESTS) as GuestKey[]) : [o.guest];
  return o;
}

function isGuestKey(guest: string): guest is GuestKey {
  return guest in GUESTS;
}

function positiveInt(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: ${flag} wants an integer >= ${min}, got "${text}"\n`);
    process.exit(2);
  }
  return n;
}

// ---------------------------------------------------------------- cleanup

/** A run's child process, with the environment tag every process of the run carries. */
type TaggedChild = ChildProcess & { tag: string };

/** One compared conversion, as measured and printed. */
interface Result extends ToolRun {
  guest: GuestKey;
  guestLabel: string;
  tool: string;
  round: number;
  order: string;
  stages: Stage[];
  groups: Groups;
  stageSource: string;
  steps: Array<{ text: string; seconds: number }>;
  alloc: number;
  firmware: string;
  breakdown: Breakdown[];
}

/** Everything to undo, newest first; run on exit, failure and signals. */
const cleanups: Array<() => void> = [];
const running = new Set<TaggedChild>();
/** Conversions measured so far (printed as a summary if interrupted). */
const results: Result[] = [];
let cleaning = false;

function runCleanups() {
  if (cleaning) return;
  cleaning = true;
  for (const child of running) killTree(child);
  while (cleanups.length > 0) {
    try {
      cleanups.pop()?.();
    } catch (e) {
      process.stderr.write(`bench: cleanup: ${(e as Error).message}\n`);
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}: stopping runs and removing temporary files\n`);
    runCleanups();
    if (['v2v', 'virt-v2v'].every((tool) => results.some((r) => r.tool === tool))) {
      summarize(results, 'the completed conversions');
      console.log(`  (interrupted: copy figure not measured)`);
    }
    process.exit(130);
  });
}

/** PIDs whose environment carries our tag (daemonized descendants included). */
function taggedPids(tag: string): number[] {
  const needle = `\0${TAG_ENV}=${tag}\0`;
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (`\0${readFileSync(`/proc/${e}/environ`, 'latin1')}`.includes(needle)) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function killTree(child: TaggedChild): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  for (const pid of taggedPids(child.tag)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Stops whatever a finished run left behind; returns descriptions of it. */
async function reapLeftovers(tag: string): Promise<string[]> {
  await sleep(1000);
  const left = taggedPids(tag).map((pid) => `${pid} (${comm(pid)})`);
  for (const pid of taggedPids(tag)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  await sleep(2000);
  for (const pid of taggedPids(tag)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return left;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- memory sampling

/** Samples the RSS of every tagged process; keeps the peak sum and the v2v node process' VmHWM. */
class MemorySampler {
  needle: string;
  nodeMatch: RegExp | undefined;
  known: Map<number, boolean>;
  peakTreeKiB: number;
  peakNodeKiB: number;
  peakByName: Map<string, number>;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;

  constructor(tag: string, nodeMatch: RegExp | undefined) {
    this.needle = `\0${TAG_ENV}=${tag}\0`;
    this.nodeMatch = nodeMatch;
    this.known = new Map(); // pid -> tagged?
    this.peakTreeKiB = 0;
    this.peakNodeKiB = 0;
    this.peakByName = new Map();
    this.timer = undefined;
    this.busy = false;
  }

  start(): void {
    this.timer = setInterval(() => {
      void this.sample();
    }, SAMPLE_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(20);
  }

  async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
      // Forget PIDs that are gone, so a reused PID is looked at afresh.
      const present = new Set(entries.map(Number));
      for (const pid of this.known.keys()) if (!present.has(pid)) this.known.delete(pid);
      let sum = 0;
      await Promise.all(
        entries.map(async (e) => {
          const pid = Number(e);
          let tagged = this.known.get(pid);
          if (tagged === undefined) {
            const environ = await readFile(`/proc/${e}/environ`, 'latin1').catch(() => undefined);
            if (environ === undefined) return;
            // The environment is fixed from exec on, so the answer is cached
            // for as long as the PID exists.
            tagged = `\0${environ}`.includes(this.needle);
            this.known.set(pid, tagged);
          }
          if (!tagged) return;
          const status = await readFile(`/proc/${e}/status`, 'utf8').catch(() => '');
          const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
          const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
          const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? '?';
          sum += rss;
          this.peakByName.set(name, Math.max(this.peakByName.get(name) ?? 0, hwm));
          if (name === 'node' && this.nodeMatch) {
            const cmdline = await readFile(`/proc/${e}/cmdline`, 'latin1').catch(() => '');
            if (this.nodeMatch.test(cmdline)) this.peakNodeKiB = Math.max(this.peakNodeKiB, hwm);
          }
        }),
      );
      this.peakTreeKiB = Math.max(this.peakTreeKiB, sum);
    } finally {
      this.busy = false;
    }
  }
}

// ---------------------------------------------------------------- one conversion

/**
 * Runs one tool under /usr/bin/time (when present) in its own process group,
 * stamping each stdout line with its arrival time (s since spawn).
 */
async function runTool({ name, argv, env, logFile, nodeMatch }: RunSpec & { name: string }): Promise<ToolRun> {
  const tag = randomBytes(8).toString('hex');
  const timeFile = `${logFile}.time`;
  const useTime = existsSync('/usr/bin/time');
  const cmd = useTime ? ['/usr/bin/time', '-f', '%M %e', '-o', timeFile, ...argv] : argv;
  const sampler = new MemorySampler(tag, nodeMatch);
  const load = loadavg()[0]!;
  const t0 = performance.now();
  const epoch = Date.now();
  const child = Object.assign(
    spawn(cmd[0]!, cmd.slice(1), {
      cwd: ROOT,
      detached: true, // own process group: a signal to us stops the whole run
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, [TAG_ENV]: tag, LANG: 'C', LC_ALL: 'C' },
    }),
    { tag },
  );
  running.add(child);
  sampler.start();
  const lines: StampedLine[] = [];
  let log = '';
  let pending = '';
  child.stdout.on('data', (buf: Buffer) => {
    const t = (performance.now() - t0) / 1000;
    const text = buf.toString('utf8');
    log += text;
    pending += text;
    const parts = pending.split(/\r?\n|\r/);
    pending = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') lines.push({ t, line });
  });
  child.stderr.on('data', (buf: Buffer) => {
    log += buf.toString('utf8');
  });
  const code = await new Promise<number>((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : 1))));
  const wall = (performance.now() - t0) / 1000;
  running.delete(child);
  await sampler.stop();
  writeFileSync(logFile, log);
  const leftovers = await reapLeftovers(tag);
  let maxProcKiB: number | undefined;
  if (useTime && existsSync(timeFile)) maxProcKiB = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ')[0]);
  if (code !== 0) {
    // The log goes with the work dir: keep every error line, not just the tail.
    const all = log.split('\n');
    const errors = all.slice(0, -15).filter((l) => /error|failed|warning/i.test(l));
    throw new Error(`${name} exited ${code}; error lines and the end of its output:\n${[...errors, '...', ...all.slice(-15)].join('\n')}`);
  }
  return {
    wall,
    epoch,
    lines,
    load,
    loadEnd: loadavg()[0]!,
    leftovers,
    peakTreeKiB: sampler.peakTreeKiB,
    peakNodeKiB: sampler.peakNodeKiB,
    maxProcKiB,
    peakByName: sampler.peakByName,
  };
}

/** Allocated bytes (st_blocks * 512) of the disk images in an output dir. */
function allocatedBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) {
    if (/\.(xml|sh|json|yaml)$/.test(f)) continue;
    total += statSync(join(dir, f)).blocks * 512;
  }
  return total;
}

// ---------------------------------------------------------------- stages

const V2V_STAGES: Array<[RegExp, Group]> = [
  [/^Setting up the source/, 'setup'],
  [/^Opening the source/, 'setup'],
  [/^Checking the target and the host/, 'setup'],
  [/^Inspecting the source/, 'inspect'],
  [/^Converting /, 'convert'],
  [/^Mapping filesystem data/, 'trim'],
  [/^Copying \d+ disk/, 'copy'],
  [/^Copying disks/, 'copy'],
  [/^Creating output metadata/, 'output'],
];

const VIRT_V2V_STAGES: Array<[RegExp, Group]> = [
  [/^Setting up the source/, 'setup'],
  [/^Opening the source/, 'setup'],
  [/^Inspecting the source/, 'inspect'],
  [/^Checking for sufficient free disk space/, 'convert'],
  [/^Converting /, 'convert'],
  [/^Mapping filesystem data/, 'trim'],
  [/^Closing the overlay/, 'trim'],
  [/^Assigning disks to buses/, 'copy'],
  [/^Checking if the guest needs BIOS or UEFI/, 'copy'],
  [/^Setting up the destination/, 'copy'],
  [/^Copying disk/, 'copy'],
  [/^Creating output metadata/, 'output'],
  [/^Finishing off/, 'output'],
];

/**
 * Stage start times from v2v's piped lines (`❯ [HH:MM:SS] title`, stamped on
 * arrival, so sub-second), or from its --machine-readable events when given.
 */
function v2vStarts(run: ToolRun, eventsFile?: string): ParsedStages {
  if (eventsFile && existsSync(eventsFile)) {
    const events = readFileSync(eventsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as V2vEvent);
    const at = (e: V2vEvent) => (Date.parse(e.timestamp) - run.epoch) / 1000;
    const stageEvents = events.filter((e): e is V2vEvent & { stage: string } => e.type === 'message' && !!e.stage);
    const starts = stageEvents.filter((e) => e.phase === 'start').map((e) => ({ t: at(e), title: e.message, group: groupOfKey(e.stage) }));
    const infos = events.filter((e) => e.type === 'info').map((e) => ({ t: at(e), text: e.message }));
    // -x style trace events (when the build emits them): each external command, timed to the next event
    // (not a heartbeat: those come every 10 s while a command runs).
    const timeline = events.filter((e) => e.type !== 'progress' && !(e.type === 'info' && /^still working: /.test(e.message)));
    const commands = timeline.flatMap((e, i): TracedCommand[] =>
      e.type === 'trace' && timeline[i + 1]
        ? [
            {
              stage: e.stage === undefined ? undefined : groupOfKey(e.stage),
              text: shortCommand(e.message),
              seconds: at(timeline[i + 1]!) - at(e),
            },
          ]
        : [],
    );
    const last = stageEvents.filter((e) => e.phase === 'end').at(-1);
    if (starts.length > 0) return { starts, infos, commands, end: last ? at(last) : undefined, source: '--machine-readable events' };
  }
  const starts: StageStart[] = [];
  const infos: ParsedStages['infos'] = [];
  let end: number | undefined;
  for (const { t, line } of run.lines) {
    const m = /^\s*(\S)\s+\[\d\d:\d\d:\d\d\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, mark, title = ''] = m;
    if (mark === '›') {
      infos.push({ t, text: title });
      continue;
    }
    if (mark === '✔') {
      end = t;
      continue;
    }
    if (mark !== '❯') continue;
    const hit = V2V_STAGES.find(([re]) => re.test(title));
    if (hit) starts.push({ t, title, group: hit[1] });
  }
  return { starts, infos, end, source: 'piped lines (stamped on arrival)' };
}

function groupOfKey(key: string): string {
  return ({ source: 'setup', overlay: 'setup', preflight: 'setup' } as Record<string, string>)[key] ?? key;
}

/** Stage start times from virt-v2v's `[  12.3] Stage` lines (its own clock). */
function virtV2vStarts(run: ToolRun): ParsedStages {
  const starts: StageStart[] = [];
  for (const { line } of run.lines) {
    const m = /^\[\s*(\d+\.\d)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const hit = VIRT_V2V_STAGES.find(([re]) => re.test(m[2]!));
    starts.push({ t: Number(m[1]), title: m[2]!, group: hit ? hit[1] : 'other' });
  }
  return { starts, infos: [], source: '[ elapsed ] lines' };
}

/**
 * Durations per stage: from its start to the next start; the last one to its
 * end when known, else to process exit. 'exit' = after the last stage ended.
 */
function durations(starts: StageStart[], end: number | undefined, wall: number): { stages: Stage[]; groups: Groups } {
  const last = end !== undefined && end >= (starts.at(-1)?.t ?? 0) ? end : wall;
  const stages = starts.map((s, i) => ({ ...s, seconds: (starts[i + 1]?.t ?? last) - s.t }));
  const groups = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Groups;
  for (const s of stages) groups[s.group] = (groups[s.group] ?? 0) + s.seconds;
  // Startup before the first stage line counts as setup.
  groups.setup += starts[0]?.t ?? 0;
  groups.exit = wall - last;
  return { stages, groups };
}

/** A trace line made short: no guest shell prelude, no remote PID, first line only. */
function shortCommand(text: string): string {
  return text
    .replace(/^guestfish --remote=\d+ -- -?/, 'guestfish: ')
    .replace(/export PATH=\S+ DEBIAN_FRONTEND=\S+ LC_ALL=C; ?/, '')
    .split('\n')[0]!;
}

/** One stage's external commands: the slow ones, and how many quick ones took how long. */
interface Breakdown {
  stage: string;
  slow: TracedCommand[];
  quickCount: number;
  quickSeconds: number;
}

/**
 * Where each stage's time goes, from trace events: the slowest commands, and
 * how many short commands there were and how long they took together.
 */
function commandBreakdown(commands: TracedCommand[]): Breakdown[] {
  const out: Breakdown[] = [];
  for (const g of ['setup', 'inspect', 'convert', 'trim', 'copy', 'output']) {
    const mine = commands.filter((c) => c.stage === g);
    if (mine.length === 0) continue;
    const slow = mine.filter((c) => c.seconds >= 5).sort((a, b) => b.seconds - a.seconds);
    const quick = mine.filter((c) => c.seconds < 5);
    const total = quick.reduce((a, c) => a + c.seconds, 0);
    out.push({ stage: g, slow, quickCount: quick.length, quickSeconds: total });
  }
  return out;
}

/** Times between consecutive info lines of v2v's convert stage: where its time goes. */
function convertSteps(info: ParsedStages['infos'], starts: StageStart[], wall: number): Result['steps'] {
  const conv = starts.find((s) => s.group === 'convert');
  if (!conv) return [];
  const next = starts[starts.indexOf(conv) + 1]?.t ?? wall;
  const inside = info.filter((i) => i.t >= conv.t && i.t <= next);
  return inside.map((i, k) => ({ text: i.text, seconds: (inside[k + 1]?.t ?? next) - i.t }));
}

// ---------------------------------------------------------------- copy figure

/**
 * Times `qemu-img convert` of an overlay like v2v's: its exact argv vs plain
 * `-O qcow2`, each until its target is durable (`fdatasync`ed after qemu-img
 * exits, as v2v's copy stage does: qemu-img leaves the target in the page cache).
 */
async function copyThroughput(vmdk: string, dir: string, reps: number): Promise<Array<{ label: string; times: number[]; alloc: number }>> {
  const overlay = join(dir, 'overlay.qcow2');
  // Same creation command as drivers/qemu-img.ts createOverlayCommand.
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1,lazy_refcounts=on', '-F', 'vmdk', '-b', vmdk, overlay]);
  const variants: Array<[string, (t: string) => string[]]> = [
    [
      'v2v argv (-p -W -m 8, -o compat=1.1)',
      (t) => ['convert', '-p', '-W', '-m', '8', '-f', 'qcow2', '-O', 'qcow2', '-o', 'compat=1.1', overlay, t],
    ],
    ['plain convert -O qcow2', (t) => ['convert', '-f', 'qcow2', '-O', 'qcow2', overlay, t]],
  ];
  const results = variants.map(([label]) => ({ label, times: [] as number[], alloc: 0 }));
  for (let r = 0; r < reps; r++) {
    // Alternate the order each repetition. Before each run, flush and drop the
    // page cache: every run then reads the source from disk (as a migration
    // does) and none pays for the previous one's writeback; then let the freed
    // memory settle as it has in a conversion (settleMemory).
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const target = join(dir, `copy-${i}.qcow2`);
      await settleMemory();
      const t0 = performance.now();
      sh('qemu-img', variants[i]![1](target), true);
      await flushToStorage(target);
      results[i]!.times.push((performance.now() - t0) / 1000);
      results[i]!.alloc = statSync(target).blocks * 512;
      rmSync(target, { force: true });
    }
  }
  rmSync(overlay, { force: true });
  return results;
}

/** Flushes dirty pages and drops the page cache (root only); returns whether it could. */
function dropCaches(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** Where a VM guest kernel counts the free memory it reported to its host (virtio-balloon free page reporting). */
const REPORTED_KIB = '/sys/module/page_reporting/parameters/reported_kib';

/**
 * Before a timed copy: the page cache dropped (dropCaches) and, on a VM
 * whose balloon reports free pages to its host, memory left to settle until
 * the freed pages are reported. A page reported to the host is faulted back
 * from it on first use, and a conversion's copy stage always runs on such
 * memory (its page cache was dropped a minute before, the appliance's
 * memory freed seconds before). A copy started right after drop_caches
 * instead reuses pages still backed: measured here, a plain 3.3 GiB copy took
 * 5.7-8.1 s that way (after a copy had filled the page cache) and 12.9-14.7 s
 * after 20 s (README, "Memory state before a timed copy"). So each copy
 * figure is taken in the conversion's state. Waits
 * until under 64 MiB were reported in the last 4 s (at most 60 s); on bare
 * metal (no counter) it only drops the cache. Resolves to { dropped, waited
 * seconds, reported MiB }.
 */
async function settleMemory(): Promise<Settled> {
  const dropped = dropCaches();
  const reported = (): number | undefined => {
    try {
      return Number(readFileSync(REPORTED_KIB, 'utf8'));
    } catch {
      return undefined;
    }
  };
  const start = reported();
  if (start === undefined) return { dropped, waited: 0, reportedMiB: 0 };
  const t0 = performance.now();
  const window: number[] = [start];
  while (performance.now() - t0 < 60_000) {
    await sleep(500);
    window.push(reported() ?? NaN); // NaN: as undefined did, it compares false
    if (window.length > 9) window.shift();
    if (window.length === 9 && window[8]! - window[0]! < 64 * 1024) break;
  }
  return { dropped, waited: (performance.now() - t0) / 1000, reportedMiB: Math.round((window.at(-1)! - start) / 1024) };
}

/** guestfish under TCG: KVM is not usable on every host, and libguestfs does not detect a broken one. */
function guestfish(args: string[]): string {
  return sh('guestfish', args, false, { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' });
}

function sh(program: string, args: string[], quiet = false, env: Record<string, string> = {}): string {
  const r = spawnSync(program, args, {
    stdio: ['ignore', quiet ? 'ignore' : 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout ?? '';
}

// ---------------------------------------------------------------- printing

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kib2mib = (k: number | undefined) => (k ? `${(k / 1024).toFixed(0)} MiB` : 'n/a');
const sec = (s: number) => `${s.toFixed(1)} s`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pad = (text: string, n: number) => String(text).padEnd(n);
const lpad = (text: string, n: number) => String(text).padStart(n);
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

function printRun(r: Result): void {
  console.log(
    `\n  ${r.guest}: ${r.tool} round ${r.round} (${r.order}): wall ${sec(r.wall)}, load avg ${r.load.toFixed(2)} → ${r.loadEnd.toFixed(2)}, stages from ${r.stageSource}`,
  );
  for (const s of r.stages) console.log(`    ${lpad(sec(s.seconds), 8)}  ${s.title.slice(0, 90)}`);
  if (r.breakdown.length > 0) {
    console.log('    where the time goes (external commands, from trace events):');
    for (const b of r.breakdown) {
      for (const c of b.slow) console.log(`      ${pad(b.stage, 8)} ${lpad(sec(c.seconds), 8)}  ${c.text.slice(0, 80)}`);
      if (b.quickCount > 0)
        console.log(`      ${pad(b.stage, 8)} ${lpad(sec(b.quickSeconds), 8)}  ${b.quickCount} shorter command(s) (< 5 s each)`);
    }
  } else if (r.steps.length > 0) {
    console.log('    convert stage, by step:');
    for (const s of r.steps) console.log(`      ${lpad(sec(s.seconds), 8)}  ${s.text.slice(0, 86)}`);
  }
  const top = [...r.peakByName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([n, k]) => `${n} ${kib2mib(k)}`)
    .join(', ');
  console.log(
    `    memory: process tree peak (sum of RSS) ${kib2mib(r.peakTreeKiB)}; largest process (time %M) ${kib2mib(r.maxProcKiB)}` +
      `${r.tool === 'v2v' ? `; v2v node process peak ${kib2mib(r.peakNodeKiB)}` : ''}; biggest: ${top}`,
  );
  console.log(
    `    output allocated: ${mib(r.alloc)}; domain XML: ${r.firmware}${r.leftovers.length ? `; LEFTOVER processes stopped: ${r.leftovers.join(', ')}` : ''}`,
  );
}

/** Per guest: medians per tool, ratios and targets; `label` says what the medians are of. */
function summarize(results: Result[], label: string): void {
  const verdicts: Verdict[] = [];
  for (const guest of [...new Set(results.map((r) => r.guest))]) {
    const a = results.filter((r) => r.guest === guest && r.tool === 'v2v');
    const b = results.filter((r) => r.guest === guest && r.tool === 'virt-v2v');
    if (a.length === 0) continue;
    if (b.length === 0) {
      const failed = referenceFailures.filter((f) => f.what.startsWith(`${guest} `)).length;
      console.log(`\n=== Summary: ${a[0]!.guestLabel}: virt-v2v failed in all its ${failed} round(s): no ratios ===`);
      console.log(
        `  v2v wall time ${sec(median(a.map((r) => r.wall)))} (median of ${a.length}), node peak ${kib2mib(Math.max(...a.map((r) => r.peakNodeKiB)))}`,
      );
      continue;
    }
    console.log(`\n=== Summary: ${a[0]!.guestLabel} (median of ${label}: ${a.length} v2v, ${b.length} virt-v2v) ===`);
    console.log(`  ${pad('', 22)}${lpad('v2v', 12)}${lpad('virt-v2v', 12)}${lpad('ratio', 9)}`);
    const row = (name: string, x: number, y: number, fmt: (n: number) => string) =>
      console.log(`  ${pad(name, 22)}${lpad(fmt(x), 12)}${lpad(fmt(y), 12)}${lpad(y ? (x / y).toFixed(2) : '-', 9)}`);
    for (const g of GROUPS) row(`stage ${g}`, median(a.map((r) => r.groups[g])), median(b.map((r) => r.groups[g])), sec);
    const wallA = median(a.map((r) => r.wall));
    const wallB = median(b.map((r) => r.wall));
    row('wall time', wallA, wallB, sec);
    row('tree peak RSS', median(a.map((r) => r.peakTreeKiB)), median(b.map((r) => r.peakTreeKiB)), kib2mib);
    row('largest process', median(a.map((r) => r.maxProcKiB ?? 0)), median(b.map((r) => r.maxProcKiB ?? 0)), kib2mib);
    const allocA = median(a.map((r) => r.alloc));
    const allocB = median(b.map((r) => r.alloc));
    row('output allocated', allocA, allocB, mib);
    const node = Math.max(...a.map((r) => r.peakNodeKiB));
    const v: Verdict = { guest, wall: wallA / wallB, alloc: allocA / allocB, node };
    verdicts.push(v);
    console.log(`\n  Targets (${guest}):`);
    console.log(`    wall time v2v/virt-v2v   ${v.wall.toFixed(2)} (target <= 0.35): ${verdict(wallMet(v))}`);
    console.log(`    allocated v2v/virt-v2v   ${v.alloc.toFixed(2)} (target <= 1.00): ${verdict(allocMet(v))}`);
    console.log(`    v2v node process peak    ${kib2mib(node)} (target < 200 MiB): ${verdict(nodeMet(v))}`);
  }
  if (verdicts.length > 1) {
    console.log(`\n=== Targets (issue #14), per guest ===`);
    console.log(`  ${pad('guest', 8)}${lpad('wall <= 0.35', 20)}${lpad('size <= 1.00', 20)}${lpad('node < 200 MiB', 22)}`);
    for (const v of verdicts) {
      const cell = (text: string, ok: boolean, n: number) => lpad(`${text} ${verdict(ok)}`, n);
      console.log(
        `  ${pad(v.guest, 8)}${cell(v.wall.toFixed(2), wallMet(v), 20)}${cell(v.alloc.toFixed(2), allocMet(v), 20)}${cell(kib2mib(v.node), nodeMet(v), 22)}`,
      );
    }
    const all = verdicts.every((v) => wallMet(v) && allocMet(v) && nodeMet(v));
    console.log(`  all targets on all guests: ${verdict(all)}`);
  }
}

/** virt-v2v's failed runs ({ what, message }): left out of the ratios, the bench goes on. */
const referenceFailures: Array<{ what: string; message: string }> = [];

/**
 * runTool for one of the compared runs (`what`: which, for the summary).
 * The reference failing on a guest (virt-v2v 2.2.0 on a `.ko.zst` one, say)
 * costs its ratios, not the rest of the bench: the failure is recorded and
 * said, and this resolves to undefined. v2v failing still stops the bench.
 */
async function runCompared(tool: string, what: string, spec: RunSpec): Promise<ToolRun | undefined> {
  try {
    return await runTool({ name: tool, ...spec });
  } catch (error) {
    if (tool !== 'virt-v2v') throw error;
    referenceFailures.push({ what, message: (error as Error).message });
    console.log(
      `\n  virt-v2v FAILED (${what}); left out of the ratios, the bench goes on:\n${(error as Error).message
        .split('\n')
        .map((l) => `    | ${l}`)
        .join('\n')}`,
    );
    return undefined;
  }
}

/** One guest's ratios v2v/virt-v2v and v2v's node peak (KiB), against the targets. */
interface Verdict {
  guest: string;
  wall: number;
  alloc: number;
  node: number;
}

const wallMet = (v: Verdict) => v.wall <= 0.35;
const allocMet = (v: Verdict) => v.alloc <= 1.0;
const nodeMet = (v: Verdict) => v.node > 0 && v.node < 200 * 1024;

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const needed: Array<[string, string]> = [
    ['virt-v2v', 'apt-get install --no-install-recommends virt-v2v'],
    ['nbdcopy', 'apt-get install libnbd-bin (virt-v2v only Recommends it, and copies with it)'],
    ['qemu-img', 'apt-get install qemu-utils'],
  ];
  for (const [tool, hint] of needed.filter(([tool]) => o.rounds > 0 || (o.large && o.largeRounds > 0) || tool === 'qemu-img')) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} not found: ${hint} (or scripts/setup.sh).`);
  }
  // Without rounds only the first guest is used (copy figure, --verify cost).
  const guests = (o.rounds > 0 ? o.guests : o.guests.slice(0, 1)).map((key) => fixtureOf(key, o.fixture));
  const help = spawnSync('node', [join(ROOT, 'bin/v2v.js'), '--help'], { encoding: 'utf8' }).stdout ?? '';
  const machineReadable = help.includes('--machine-readable');

  mkdirSync(o.workdir, { recursive: true });
  const work = mkdtempSync(join(o.workdir, 'v2v-bench-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  for (const [i, g] of guests.entries()) if (GUESTS[g.key].espStub && o.rounds > 0) guests[i] = withEspGrubStub(g, work);
  const { vmx, vmdk } = guests[0]!;

  const virtV2vVersion =
    o.rounds > 0 ? `${sh('virt-v2v', ['--version']).trim()} (LIBGUESTFS_BACKEND_SETTINGS=force_tcg)` : 'no virt-v2v run';
  const qemuImgVersion = sh('qemu-img', ['--version']).split('\n')[0];
  console.log(`v2v vs virt-v2v benchmark — ${new Date().toISOString()}`);
  console.log(
    `  host: ${cpus().length} CPU(s), ${existsSync('/dev/kvm') ? '/dev/kvm present' : 'no /dev/kvm (TCG)'}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `  tools: node bin/v2v.js (dist, stages from ${machineReadable ? '--machine-readable=file:' : 'piped lines'}), ${virtV2vVersion}, ${qemuImgVersion}`,
  );
  for (const g of guests) console.log(`  guest ${g.key}: ${g.label}: ${g.vmx} (${mib(statSync(g.vmdk).blocks * 512)} allocated)`);
  console.log(
    `  command: -i vmx guest.vmx -o local -os DIR -of qcow2; ${o.rounds > 0 ? `${o.rounds} round(s) per guest, alternating order` : 'no v2v/virt-v2v rounds'}`,
  );

  for (const guest of guests) {
    for (let round = 1; round <= o.rounds; round++) {
      await compareRound(guest, round, work, machineReadable);
    }
  }
  if (o.rounds > 0) summarize(results, `${o.rounds} round(s)`);

  if (o.copy) {
    console.log(
      `\n=== Copy throughput: qemu-img convert of a qcow2 overlay over the ${guests[0]!.key} guest, target fdatasync'ed (${o.copyReps} reps, into ${work}) ===`,
    );
    console.log(
      `  page cache: ${dropCaches() ? 'flushed and dropped before each run (source read from disk)' : 'NOT dropped (needs root): figures include cache effects'}`,
    );
    console.log(
      `  memory: ${existsSync(REPORTED_KIB) ? 'after the drop, freed pages left to be reported to the host (as in a conversion) before each run' : 'no free page reporting (bare metal or none): nothing to settle'}`,
    );
    console.log(
      `  load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const copy = await copyThroughput(vmdk, work, o.copyReps);
    const alloc = statSync(vmdk).blocks * 512;
    for (const c of copy) {
      console.log(
        `  ${pad(c.label, 40)} median ${sec(median(c.times))} (runs ${c.times.map((t) => t.toFixed(1)).join(', ')}), ` +
          `${mib(alloc / median(c.times))}/s of source data, target ${mib(c.alloc)}`,
      );
    }
    const ratio = median(copy[1]!.times) / median(copy[0]!.times);
    console.log(`  throughput v2v argv / plain: ${ratio.toFixed(2)} (target >= 0.95): ${verdict(ratio >= 0.95)}`);
    const v2vCopies = results.filter((r) => r.tool === 'v2v' && r.guest === guests[0]!.key).map((r) => r.groups.copy);
    if (v2vCopies.length > 0)
      console.log(`  v2v copy stage in the full runs: median ${sec(median(v2vCopies))} (the converted, trimmed overlay)`);
  }
  if (o.verifyCost) {
    if (!help.includes('--verify')) console.log('\n=== --verify cost: this v2v build has no --verify ===');
    else {
      // The same conversion without --verify, for the ratio: the full rounds' median when they ran.
      const plain = results.filter((r) => r.tool === 'v2v' && r.guest === guests[0]!.key).map((r) => r.wall);
      await verifyCost(vmx, work, plain.length > 0 ? median(plain) : undefined);
    }
  }
  if (o.large)
    await largeGuestBench(
      { ROOT, sh, dropCaches, settleMemory, flushToStorage, runCompared, v2vStarts, virtV2vStarts, durations },
      { rounds: o.largeRounds, work, machineReadable },
    );
  if (o.warm)
    await warmBench(
      { ROOT, sh, dropCaches, settleMemory, flushToStorage, runCompared, v2vStarts, virtV2vStarts, durations },
      { work, mib: o.warmMib, sizes: o.warmSizes },
    );
  console.log(
    `\n  load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

/**
 * A guest's fixture: `fixture` when given, else the directory its fixture
 * script prints (the script builds and caches the guest first when it is
 * missing: several minutes; its progress goes to stderr).
 */
function fixtureOf(key: GuestKey, fixture: string | undefined): Fixture {
  const { label, script, env = {} } = GUESTS[key];
  let dir = fixture;
  if (dir === undefined) {
    const r = spawnSync('bash', [join(ROOT, script)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}): it builds the ${key} guest; see its output above.`);
    dir = r.stdout.trim().split('\n').at(-1)!;
  }
  const vmx = join(dir, 'guest.vmx');
  const vmdk = join(dir, 'guest.vmdk');
  if (!existsSync(vmx) || !existsSync(vmdk)) throw new Error(`${dir} holds no guest.vmx + guest.vmdk.`);
  return { key, label: fixture ? `${label}, --fixture ${fixture}` : label, vmx, vmdk };
}

/**
 * virt-v2v (2.2.0) looks for a UEFI guest's grub.cfg only under
 * /boot/efi/EFI and stops with "no bootloader detected" without one. The
 * UEFI+LVM fixture boots grub from the removable path (EFI/BOOT/BOOTX64.EFI,
 * whose prefix is /boot/grub), so its ESP holds no grub.cfg; a Debian
 * install with the signed grub has the stub EFI/debian/grub.cfg. Both tools
 * then convert a copy of the guest with that stub added (as Debian writes
 * it: /boot found by its UUID), unless its ESP already has a grub.cfg.
 * v2v's Debian converter does not read the stub.
 */
function withEspGrubStub(guest: Fixture, work: string): Fixture {
  const probe = guestfish([
    '--ro',
    '-a',
    guest.vmdk,
    '-i',
    'glob-expand',
    '/boot/efi/EFI/*/grub.cfg',
    ':',
    'echo',
    '==',
    ':',
    'mountpoints',
    ':',
    'echo',
    '==',
    ':',
    'vfs-uuid',
    '/dev/sda2',
  ]);
  const [configs, mounts = '', uuid] = probe.split(/^==$/m).map((t) => t.trim());
  if (configs !== '') return guest;
  if (!/^\/dev\/sda2: \/boot$/m.test(mounts))
    throw new Error(`${guest.vmdk}: the ESP grub.cfg stub wants /boot on /dev/sda2; the guest mounts: ${mounts}`);
  const dir = join(work, `${guest.key}-guest`);
  mkdirSync(dir);
  sh('cp', ['--sparse=always', guest.vmdk, join(dir, 'guest.vmdk')]);
  sh('cp', [guest.vmx, join(dir, 'guest.vmx')]);
  const stub = join(work, 'esp-grub.cfg');
  writeFileSync(stub, `search.fs_uuid ${uuid} root hd0,gpt2\nset prefix=($root)'/grub'\nconfigfile $prefix/grub.cfg\n`);
  guestfish(['-a', join(dir, 'guest.vmdk'), '-i', 'mkdir-p', '/boot/efi/EFI/debian', ':', 'upload', stub, '/boot/efi/EFI/debian/grub.cfg']);
  return {
    ...guest,
    label: `${guest.label}; a copy with EFI/debian/grub.cfg added for virt-v2v`,
    vmx: join(dir, 'guest.vmx'),
    vmdk: join(dir, 'guest.vmdk'),
  };
}

/** One round on one guest: each tool converts it once, the first tool alternating with the round. */
async function compareRound(guest: Fixture, round: number, work: string, machineReadable: boolean): Promise<void> {
  const { vmx } = guest;
  const order = round % 2 === 1 ? ['v2v', 'virt-v2v'] : ['virt-v2v', 'v2v'];
  for (const [pos, tool] of order.entries()) {
    const name = `${guest.key}-${tool}-r${round}`;
    const out = join(work, name);
    mkdirSync(out);
    const eventsFile = join(work, `${name}.events.jsonl`);
    process.stderr.write(`bench: ${guest.key} round ${round}: ${tool} → ${out} ...\n`);
    const spec: ToolSpec =
      tool === 'v2v'
        ? {
            argv: [
              'node',
              join(ROOT, 'bin/v2v.js'),
              '-i',
              'vmx',
              vmx,
              '-o',
              'local',
              '-os',
              out,
              '-of',
              'qcow2',
              ...(machineReadable ? [`--machine-readable=file:${eventsFile}`] : []),
            ],
            env: {},
            nodeMatch: /bin\/v2v\.js/,
          }
        : {
            argv: ['virt-v2v', '-i', 'vmx', vmx, '-o', 'local', '-os', out, '-of', 'qcow2'],
            env: { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
          };
    const run = await runCompared(tool, `${guest.key} round ${round}`, { logFile: join(work, `${name}.log`), ...spec });
    if (run === undefined) {
      // virt-v2v failed: said by runCompared, left out
      rmSync(out, { recursive: true, force: true });
      continue;
    }
    const parsed = tool === 'v2v' ? v2vStarts(run, machineReadable ? eventsFile : undefined) : virtV2vStarts(run);
    const { stages, groups } = durations(parsed.starts, parsed.end, run.wall);
    const result: Result = {
      guest: guest.key,
      guestLabel: guest.label,
      tool,
      round,
      order: pos === 0 ? 'first' : 'second',
      ...run,
      stages,
      groups,
      stageSource: parsed.source,
      steps: tool === 'v2v' ? convertSteps(parsed.infos, parsed.starts, run.wall) : [],
      alloc: allocatedBytes(out),
      firmware: firmwareOf(out),
      breakdown: commandBreakdown(parsed.commands ?? []),
    };
    results.push(result);
    printRun(result);
    rmSync(out, { recursive: true, force: true });
  }
}

/** What firmware the domain XML a run wrote asks for (`efi`, a loader, or bios). */
function firmwareOf(dir: string): string {
  const xml = readdirSync(dir).find((f) => f.endsWith('.xml'));
  if (xml === undefined) return 'no XML';
  const text = readFileSync(join(dir, xml), 'utf8');
  if (/<os[^>]*\sfirmware=['"]efi['"]/.test(text)) return "<os firmware='efi'>";
  const loader = /<loader[^>]*>([^<]*)<\/loader>/.exec(text);
  if (loader) return `loader ${loader[1]!.trim()}`;
  return 'bios (no firmware or loader)';
}

/**
 * The cost of `--verify` on the fixture: one v2v conversion with `--verify`
 * (checksum and boot) and its events: the verify stage's time, split into
 * the checksum (qemu-img compare of overlay and target) and the boot (qemu,
 * no network, until a login prompt), against the whole conversion.
 */
async function verifyCost(vmx: string, work: string, plainWall: number | undefined): Promise<void> {
  const out = join(work, 'v2v-verify');
  mkdirSync(out);
  const eventsFile = join(work, 'v2v-verify.events.jsonl');
  console.log(`\n=== --verify cost: one v2v conversion with --verify (checksum and boot) ===`);
  console.log(
    `  load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  process.stderr.write(`bench: v2v --verify → ${out} ...\n`);
  const run = await runTool({
    name: 'v2v',
    logFile: join(work, 'v2v-verify.log'),
    nodeMatch: /bin\/v2v\.js/,
    env: {},
    argv: [
      'node',
      join(ROOT, 'bin/v2v.js'),
      '-i',
      'vmx',
      vmx,
      '-o',
      'local',
      '-os',
      out,
      '-of',
      'qcow2',
      '--verify',
      `--machine-readable=file:${eventsFile}`,
    ],
  });
  const events = readFileSync(eventsFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as V2vEvent);
  const stageEnd = events.find((e) => e.type === 'message' && e.stage === 'verify' && e.phase === 'end');
  const report = events.find((e) => e.type === 'result')?.verify;
  rmSync(out, { recursive: true, force: true });
  if (!report?.checksum || !report.boot || stageEnd?.seconds === undefined)
    throw new Error(`v2v --verify reported no verification in ${eventsFile}`);
  const { checksum, boot } = report;
  const without = plainWall ?? run.wall - stageEnd.seconds;
  const withoutHow = plainWall !== undefined ? 'median of the v2v rounds above' : 'this run minus its verify stage';
  console.log(
    `  conversion wall time ${sec(run.wall)} with --verify (load average at end ${run.loadEnd.toFixed(2)}); verify stage ${sec(stageEnd.seconds)} (${((100 * stageEnd.seconds) / run.wall).toFixed(0)} % of the run)`,
  );
  console.log(
    `  checksum: ${checksum.status}, ${sec(checksum.seconds)} for ${checksum.disks} disk(s) (qemu-img compare, overlay vs target)`,
  );
  console.log(
    `  boot:     ${boot.status} under ${boot.accel}, ${sec(boot.seconds)} to "${boot.decidingLine}" (plus overlay setup and qemu stop: ${sec(stageEnd.seconds - checksum.seconds - boot.seconds)})`,
  );
  console.log(
    `  without --verify: ${sec(without)} (${withoutHow}); with it: ${(run.wall / without).toFixed(2)}x ` +
      `(checksum alone +${((100 * checksum.seconds) / without).toFixed(1)} %, boot with its overlay setup +${((100 * (stageEnd.seconds - checksum.seconds)) / without).toFixed(0)} %)`,
  );
  if (boot.accel === 'kvm') console.log(`  KVM: the figures above are under KVM`);
  else console.log('  KVM: not usable on this host (v2v fell back to TCG), so no KVM figure was measured');
}

try {
  await main();
  runCleanups();
} catch (error) {
  runCleanups();
  process.stderr.write(`bench: error: ${(error as Error).message}\n`);
  process.exit(1);
}
