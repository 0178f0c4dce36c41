/**
 * Progress, logs and clean interruption, on real runs of the Debian 12
 * VMware test guest:
 * - one real conversion with stdout piped and --machine-readable=file:F:
 *   the log is clean (no ANSI, no \r, timestamped stage lines, warnings as
 *   they happen) and every event validates against
 *   docs/machine-readable.schema.json;
 * - SIGINT in each stage (paused there with the V2V_TEST_PAUSE_AT test
 *   hook): exit 130, no child process left, no temp dir, no partial target,
 *   source unchanged;
 * - every exit code produced for real (2, 3, 4, 5, 130);
 * - SIGKILL (nothing can be caught) during the inspection, with the
 *   appliance running, and during the copy: within a few seconds nothing of
 *   the run is left running (its watchdog stops the guestfish server and the
 *   appliance; qemu-img dies of its parent-death signal) and its temp dir is
 *   gone; the same command run again removes the killed run's reserved names
 *   with a notice and converts. The run killed during the inspection is the
 *   full conversion's own first attempt (its rerun is the full conversion),
 *   so it adds no conversion.
 * Interrupting the copy needs a run that got through conversion; it uses the
 * guest converted by the first run as its source, whose conversion is then
 * quick (nothing left to change), instead of another full conversion. Trim
 * and output are not interrupted on runs of their own: a run paused at the
 * start of trim holds what one paused at convert holds (the appliance, the
 * temp dir, the empty reserved names), and one paused at the start of output
 * what the copy test's run holds (the partial targets and reserved names,
 * no appliance) less the qemu-img to stop; each of those runs took 69-76 s
 * of CI.
 *
 * Runs overlap where they can (each has its own TMPDIR and process mark): the
 * full conversion, which keeps about one of the two cores busy, starts first
 * and the early-stage interrupts run beside it; the two runs that need the
 * converted guest start together and both pause at the copy.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture, type Fixture } from '../helpers/fixture.js';
import { eventErrors } from '../helpers/machine-readable-schema.js';
import { markedProcesses, markedProcessesAfter, startV2v, type LiveRun } from '../helpers/live-run.js';
import { outputEntries, runLogs, splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256 } from '../helpers/v2v.js';

const MINUTE = 60_000;
const NAME = 'v2v-fixture-debian12';
const STAGE_ORDER = ['source', 'overlay', 'preflight', 'inspect', 'convert', 'trim', 'copy', 'output'];

let fixture: Fixture;
let sourceHash: string;
let work: string;
let out: string;
let eventsFile: string;
let full: LiveRun | undefined;
let fullExit: number;
let fullDone: Promise<void> | undefined;

/** What was seen of the run SIGKILLed during its inspection (before the full conversion ran the same command again). */
interface Killed {
  run: LiveRun;
  /** What was running just before the SIGKILL. */
  before: Array<{ pid: number; cmd: string }>;
  /** The libguestfs socket dirs named by its appliance. */
  sockets: string[];
  /** Milliseconds from the SIGKILL until none of its processes was left (or what was left after 10 s). */
  goneAfterMs: number;
  left: Array<{ pid: number; cmd: string }>;
  /** Its TMPDIR's entries named v2v-... or libguestfs..., once its processes were gone. */
  tmpLeft: string[];
}
let killedAtInspect: Killed | undefined;

/** SIGKILLs `run` and waits (at most 10 s) until nothing carrying its mark runs. */
async function killHard(run: LiveRun): Promise<Pick<Killed, 'goneAfterMs' | 'left'>> {
  const killed = Date.now();
  run.child.kill('SIGKILL');
  await run.exited;
  const left = await markedProcessesAfter(run.mark, 10_000);
  return { goneAfterMs: Date.now() - killed, left };
}

/** The libguestfs socket dirs named in these processes' command lines. */
function socketDirsOf(processes: Array<{ cmd: string }>): string[] {
  return processes.flatMap((p) => [...p.cmd.matchAll(/path=(\/\S*\/libguestfs\w{6})\//g)].map((m) => m[1]!));
}

/**
 * The one full conversion, shared by the log tests and the late-stage interrupt tests (run once, when first needed).
 * Its first attempt is SIGKILLed during the inspection; the full conversion is the same command run again.
 */
function fullConversion(): Promise<void> {
  fullDone ??= (async () => {
    out = join(work, 'out');
    await mkdir(out);
    eventsFile = join(work, 'events.jsonl');
    const args = ['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', out, '-of', 'qcow2', `--machine-readable=file:${eventsFile}`];
    const first = await startV2v(args, { V2V_TEST_PAUSE_AT: 'inspect' });
    pausedRuns.push(first);
    await first.waitFor(/v2v: test hook: paused at inspect /, 20 * MINUTE);
    first.child.kill('SIGUSR2');
    // The appliance is up and inspecting: what a SIGKILL used to leave running (~480 MiB and more).
    let before = await markedProcesses(first.mark);
    while (!before.some((p) => /qemu-system/.test(p.cmd)) && first.child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
      before = await markedProcesses(first.mark);
    }
    const { goneAfterMs, left } = await killHard(first);
    const tmpLeft = (await readdir(first.tmp)).filter((e) => e.startsWith('v2v-') || e.startsWith('libguestfs'));
    killedAtInspect = { run: first, before, sockets: socketDirsOf(before), goneAfterMs, left, tmpLeft };
    console.log(`SIGKILL during inspect: nothing of the run left after ${goneAfterMs} ms`);
    full = await startV2v(args, { TMPDIR: first.tmp });
    fullExit = await full.exited;
    console.log(`full conversion: exit ${fullExit} in ${full.stdout().match(/^Finished converting \S+ in ([\d.]+) s/m)?.[1]} s`);
  })();
  return fullDone;
}

/** Runs started ahead of their test (paused at a stage): killed and removed at the end whatever happened. */
const pausedRuns: LiveRun[] = [];

/** Awaited by its test; marked handled now so a failure before then is not an unhandled rejection. */
function started<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  work = await mkdtemp(join(tmpdir(), 'v2v-e2e-progress-'));
  void started(fullConversion()); // runs beside the early-stage interrupts below
}, 40 * MINUTE);

afterAll(async () => {
  for (const run of pausedRuns) {
    run.child.kill('SIGKILL');
    await rm(run.tmp, { recursive: true, force: true });
  }
  await fullDone?.catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
  if (full) await rm(full.tmp, { recursive: true, force: true });
}, 10 * MINUTE);

/** What a paused stage must have running, to prove the interrupt stopped something. */
const EXPECT_RUNNING: Record<string, RegExp | undefined> = { convert: /qemu-system/ };

/** A run started with the pause hook at `stage`, and its output directory. */
interface Paused {
  run: LiveRun;
  target: string;
}

/** Starts a run of `input` into `target` (default: a fresh directory, qcow2 disks) that pauses at the start of `stage`. */
async function startPaused(stage: string, input: string[], target?: string): Promise<Paused> {
  const format = target === undefined ? ['-of', 'qcow2'] : [];
  target ??= await mkdtemp(join(tmpdir(), `v2v-e2e-int-${stage}-`));
  const run = await startV2v([...input, '-o', 'local', '-os', target, ...format], { V2V_TEST_PAUSE_AT: stage });
  pausedRuns.push(run);
  return { run, target };
}

/** Interrupts a run paused at `stage` (started now unless given) with SIGINT and checks it left nothing. */
async function interruptAt(
  stage: string,
  input: string[],
  sourceDisk: string,
  hash: string,
  options: { resumeUntil?: (target: string) => Promise<boolean>; paused?: Promise<Paused> } = {},
): Promise<void> {
  const { run, target } = await (options.paused ?? startPaused(stage, input));
  try {
    await run.waitFor(new RegExp(`v2v: test hook: paused at ${stage} `), 20 * MINUTE);
    const expected = EXPECT_RUNNING[stage];
    if (expected) expect((await markedProcesses(run.mark)).map((p) => p.cmd).join('\n')).toMatch(expected);
    // The appliance's socket dir (libguestfs puts it in /tmp for root, whatever TMPDIR says): gone after the interrupt too.
    const socketDirs = (await markedProcesses(run.mark)).flatMap((p) =>
      [...p.cmd.matchAll(/path=(\/\S*\/libguestfs\w{6})\//g)].map((m) => m[1]!),
    );
    if (expected) expect(socketDirs.length).toBeGreaterThan(0);
    if (options.resumeUntil) {
      run.child.kill('SIGUSR2');
      const deadline = Date.now() + 5 * MINUTE;
      while (!(await options.resumeUntil(target)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }
    const stopped = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exited;
    const seconds = (Date.now() - stopped) / 1000;
    console.log(`interrupt at ${stage}: exit ${code} after ${seconds.toFixed(1)} s`);
    expect(code, run.stderr()).toBe(130);
    expect(run.stderr()).toContain('v2v: error: interrupted; temporary files and partial targets were removed.');
    expect(seconds).toBeLessThan(30);
    expect(await markedProcesses(run.mark)).toEqual([]);
    expect((await readdir(run.tmp)).filter((e) => e.startsWith('v2v-') || e.startsWith('libguestfs'))).toEqual([]);
    // Only the run's log is left, closed with the interruption.
    const { files, log } = await splitOutputDir(target);
    expect(files).toEqual([]);
    const text = await readFile(log, 'utf8');
    expect(text).toContain('v2v: SIGINT received: stopping and cleaning up');
    expect(text.trimEnd().split('\n').at(-1)).toMatch(
      /^\[\d\d:\d\d:\d\d\] v2v: error: interrupted; temporary files and partial targets were removed\.$/,
    );
    for (const dir of socketDirs)
      expect(
        await stat(dir).then(
          () => `${dir} left behind`,
          () => 'gone',
        ),
      ).toBe('gone');
    expect(await sha256(sourceDisk)).toBe(hash);
  } finally {
    run.child.kill('SIGKILL'); // no-op once it exited; never leave a run behind a failed assertion
    await rm(target, { recursive: true, force: true });
    await rm(run.tmp, { recursive: true, force: true });
  }
}

describe('SIGINT in each stage stops children, removes temp files and partial targets', () => {
  for (const stage of ['source', 'overlay', 'preflight', 'inspect', 'convert']) {
    it(
      `at ${stage}`,
      async () => {
        await interruptAt(stage, ['-i', 'vmx', fixture.vmx], fixture.vmdk, sourceHash);
      },
      25 * MINUTE,
    );
  }

  describe('after conversion (source: the guest converted above)', () => {
    // A qcow2 disk is no VMware disk, so -i vmx refuses it: it is read with -i disk.
    let input: string[];
    let disk: string;
    let hash: string;
    /** The runs of this block pause at the copy; started together, their inspection and conversion overlap. */
    let copyRun: Promise<Paused>;
    let copyFailRun: Promise<Paused>;
    let copyFailParent: string;
    let copyKillRun: Promise<Paused>;
    beforeAll(async () => {
      await fullConversion();
      expect(fullExit).toBe(0);
      disk = join(out, `${NAME}-sda`);
      hash = await sha256(disk);
      input = ['-i', 'disk', disk, '-if', 'qcow2', '-on', NAME];
      copyRun = started(startPaused('copy', input));
      copyFailParent = await mkdtemp(join(tmpdir(), 'v2v-e2e-copyfail-'));
      await mkdir(join(copyFailParent, 'out'));
      copyFailRun = started(startPaused('copy', input, join(copyFailParent, 'out')));
      copyKillRun = started(startPaused('copy', input));
    }, 40 * MINUTE);

    it(
      'at copy, with a partial target being written',
      async () => {
        await interruptAt('copy', input, disk, hash, {
          paused: copyRun,
          // Resume the copy, and interrupt once the target has data in it (under its copy name until the output stage).
          resumeUntil: async (target) =>
            (await stat(join(target, `${NAME}-sda.v2v-partial`)).then(
              (s) => s.size,
              () => 0,
            )) > 0,
        });
      },
      25 * MINUTE,
    );

    it(
      'SIGKILL during the copy: nothing of the run is left running; the same command again replaces its reservation and converts',
      async () => {
        const { run, target } = await copyKillRun;
        try {
          await run.waitFor(/v2v: test hook: paused at copy /, 20 * MINUTE);
          run.child.kill('SIGUSR2');
          const partial = join(target, `${NAME}-sda.v2v-partial`);
          const deadline = Date.now() + 5 * MINUTE;
          const size = async (): Promise<number> =>
            stat(partial).then(
              (s) => s.size,
              () => 0,
            );
          while ((await size()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          expect((await markedProcesses(run.mark)).map((p) => p.cmd).join('\n')).toMatch(/qemu-img convert/);
          const { goneAfterMs, left } = await killHard(run);
          console.log(`SIGKILL during the copy: nothing of the run left after ${goneAfterMs} ms`);
          expect(left).toEqual([]);
          expect(goneAfterMs).toBeLessThan(10_000);
          expect((await readdir(run.tmp)).filter((e) => e.startsWith('v2v-') || e.startsWith('libguestfs'))).toEqual([]);
          // What it reserved stays (no process of it may remove a file), its lock naming a dead run.
          expect((await splitOutputDir(target)).files.sort()).toEqual([
            `${NAME}-sda`,
            `${NAME}-sda.v2v-partial`,
            `${NAME}.v2v-lock`,
            `${NAME}.xml`,
          ]);
          expect(await size()).toBeGreaterThan(0);

          const again = await startV2v([...input, '-o', 'local', '-os', target, '-of', 'qcow2'], { TMPDIR: run.tmp });
          pausedRuns.push(again);
          expect(await again.exited, again.stderr()).toBe(0);
          expect(again.stderr()).toMatch(
            new RegExp(
              `v2v: warning: a v2v run converting ${NAME} into ${target} was killed \\(pid ${run.pid}, started [^)]*\\): removed what it left: ${NAME}-sda, ${NAME}-sda\\.v2v-partial, ${NAME}\\.xml\n`,
            ),
          );
          expect(await outputEntries(target)).toEqual([`${NAME}-sda`, `${NAME}.xml`]);
          expect(await runLogs(target)).toHaveLength(2); // the killed run's, and this one's
          expect(await sha256(disk)).toBe(hash);
        } finally {
          run.child.kill('SIGKILL');
          await rm(target, { recursive: true, force: true });
          await rm(run.tmp, { recursive: true, force: true });
        }
      },
      25 * MINUTE,
    );

    it(
      'a copy that fails exits 5 and removes the partial target',
      async () => {
        const parent = copyFailParent;
        const { run, target } = await copyFailRun;
        try {
          await run.waitFor(/v2v: test hook: paused at copy /, 20 * MINUTE);
          // The target directory disappears between preflight and the copy.
          await rm(target, { recursive: true });
          run.child.kill('SIGUSR2');
          const code = await run.exited;
          expect(code, run.stderr()).toBe(5);
          expect(run.stderr()).toMatch(/v2v: error: Copying to .* failed: qemu-img: /);
          expect(await markedProcesses(run.mark)).toEqual([]);
          expect((await readdir(run.tmp)).filter((e) => e.startsWith('v2v-'))).toEqual([]);
          expect(await readdir(parent)).toEqual([]);
          expect(await sha256(disk)).toBe(hash);
        } finally {
          run.child.kill('SIGKILL');
          await rm(parent, { recursive: true, force: true });
          await rm(run.tmp, { recursive: true, force: true });
        }
      },
      25 * MINUTE,
    );
  });
});

describe('a real conversion with stdout piped and --machine-readable=file:F', () => {
  beforeAll(fullConversion, 40 * MINUTE);

  it('its first attempt, SIGKILLed during the inspection, left nothing running; the conversion replaced what it reserved', async () => {
    const k = killedAtInspect!;
    expect(k.before.map((p) => p.cmd).join('\n')).toMatch(/guestfish --listen/);
    expect(k.before.map((p) => p.cmd).join('\n')).toMatch(/qemu-system/);
    expect(k.sockets.length).toBeGreaterThan(0);
    expect(k.left).toEqual([]);
    expect(k.goneAfterMs).toBeLessThan(10_000);
    expect(k.tmpLeft).toEqual([]);
    for (const dir of k.sockets)
      expect(
        await stat(dir).then(
          () => `${dir} left behind`,
          () => 'gone',
        ),
      ).toBe('gone');
    expect(fullExit, full!.stderr()).toBe(0);
    expect(full!.stderr()).toMatch(
      new RegExp(
        `^\\[\\d\\d:\\d\\d:\\d\\d\\] v2v: warning: a v2v run converting ${NAME} into ${out} was killed \\(pid ${k.run.pid}, started [^)]*\\): removed what it left: ${NAME}-sda, ${NAME}-sda\\.v2v-partial, ${NAME}\\.xml$`,
        'm',
      ),
    );
  });

  it('exits 0 and writes a clean, timestamped log', () => {
    expect(fullExit, full!.stderr()).toBe(0);
    const log = full!.stdout();
    expect(log).not.toMatch(/\u001b|\r/);
    expect(full!.stderr()).not.toMatch(/\u001b|\r/);
    const lines = log.split('\n').filter((l) => l !== '');
    for (const line of lines) expect(line).toMatch(/^(\S+ \[\d\d:\d\d:\d\d\] |Finished converting )/);
    // One start and one finish line per stage, in order.
    const starts = lines.filter((l) => l.startsWith('❯ ')).map((l) => l.slice(13));
    let at = -1;
    for (const title of [
      'Setting up the source',
      'Opening the source',
      'Checking the target and the host',
      'Inspecting the source',
      'Converting ',
      'Mapping filesystem data',
      'Copying ',
      'Copying disk 1/1',
      'Creating output metadata',
    ]) {
      const next = starts.findIndex((t, i) => i > at && t.startsWith(title));
      expect(next, `start line for "${title}" in order, in:\n${starts.join('\n')}`).toBeGreaterThan(at);
      at = next;
    }
    expect(lines.filter((l) => l.startsWith('✔ ')).length).toBeGreaterThanOrEqual(8);
    expect(lines.filter((l) => l.startsWith('✖ '))).toEqual([]);
    expect(log).toMatch(/^Finished converting v2v-fixture-debian12 in [\d.]+ s: /m);
    // Copy progress: percent, bytes, rate, ETA; at most one line every ~5 s.
    const progress = lines.filter((l) => /\d+\.\d% \(.* of .*\/s/.test(l));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatch(/100\.0%/);
  });

  it('prints warnings as timestamped lines when they happen, not only at the end', () => {
    const warning = full!
      .stderr()
      .split('\n')
      .find((l) => l.includes('v2v: warning: KVM is not usable'));
    expect(warning).toMatch(/^\[\d\d:\d\d:\d\d\] v2v: warning: /);
    // Printed during preflight: before the inspection started.
    const inspectStart = full!
      .stdout()
      .split('\n')
      .find((l) => l.startsWith('❯') && l.includes('Inspecting the source'));
    expect(warning!.slice(1, 9) <= inspectStart!.slice(3, 11)).toBe(true);
    expect(full!.stderr().match(/KVM is not usable/g)).toHaveLength(1);
  });

  it('writes JSON lines valid against docs/machine-readable.schema.json, with stages, progress and a result', async () => {
    const lines = (await readFile(eventsFile, 'utf8')).trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const [i, event] of events.entries()) expect(eventErrors(event), `line ${i + 1}: ${lines[i]}`).toEqual([]);
    // The validator is not vacuous.
    expect(eventErrors({ type: 'progress', timestamp: 'yesterday', message: 'x' }).length).toBeGreaterThan(1);
    const stamps = events.map((e) => Date.parse(e['timestamp'] as string));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    const starts = events.filter((e) => e['type'] === 'message' && e['phase'] === 'start').map((e) => e['stage']);
    const ends = events.filter((e) => e['type'] === 'message' && e['phase'] === 'end').map((e) => e['stage']);
    expect(starts).toEqual(STAGE_ORDER);
    expect(ends).toEqual(STAGE_ORDER);
    expect(events.some((e) => e['type'] === 'warning' && e['stage'] === 'preflight')).toBe(true);
    const progress = events
      .filter((e) => e['type'] === 'progress')
      .map((e) => e['progress'] as { done: number; total: number; percent: number });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.total === 2 * 2 ** 30)).toBe(true);
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ percent: 100, done: 2 * 2 ** 30 });
    expect(events.at(-1)).toMatchObject({
      type: 'result',
      exitCode: 0,
      name: NAME,
      files: [join(out, `${NAME}.xml`), join(out, `${NAME}-sda`)],
    });
  });

  it('bare --machine-readable lists capabilities from the real mode tables', async () => {
    const r = await runV2v(['--machine-readable']);
    expect(r.exitCode).toBe(0);
    const caps = r.stdout.trim().split('\n');
    for (const cap of [
      'input:vmx',
      'input:disk',
      'input:ova',
      'input:libvirtxml',
      'output:local',
      'output:libvirt',
      'output:null',
      'convert:linux',
      'batch',
    ]) {
      expect(caps).toContain(cap);
    }
  });
});

describe('exit codes are really produced', () => {
  it('2: usage errors', async () => {
    expect((await runV2v(['--no-such-flag'])).exitCode).toBe(2);
    expect((await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'local'])).exitCode).toBe(2);
    const bad = await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'null', '--machine-readable=socket:x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('Invalid "--machine-readable=socket:x"');
  });

  it('3: preflight failure (missing output directory)', async () => {
    expect((await runV2v(['-i', 'vmx', fixture.vmx, '-o', 'local', '-os', '/nonexistent/v2v-out'])).exitCode).toBe(3);
  });

  it('4: source failure (a VMX naming a missing disk), reported as an error event too', async () => {
    const vmx = join(work, 'missing-disk.vmx');
    await writeFile(vmx, 'displayName = "broken"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "nowhere.vmdk"\n');
    const events = join(work, 'missing.jsonl');
    const r = await runV2v(['-i', 'vmx', vmx, '-o', 'null', `--machine-readable=file:${events}`]);
    expect(r.exitCode).toBe(4);
    const last = (await readFile(events, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(last.at(-2)).toMatchObject({ type: 'error', stage: 'source' });
    expect(last.at(-1)).toMatchObject({ type: 'result', exitCode: 4, files: [] });
  });
});
