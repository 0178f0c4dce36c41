/**
 * Every sink of human-readable text shows a hostile string escaped, never
 * raw (src/text/safe-text.ts): the live task list (with listr2's own colours
 * kept), piped lines, the run's log, errors, warnings, the summary, `v2v
 * batch`, `v2v list`, `v2v verify`; and JSON for programs stays JSON of the
 * original string. The real CLI under a pty: test/integration/hostile-inputs.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

// listr2's colours are decided when it loads: forced on, so the test sees them survive.
vi.hoisted(() => {
  process.env['FORCE_COLOR'] = '1';
});

import { createWritable, DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrTask } from 'listr2';
import { SafeDefaultRenderer, SafeListrLogger } from '../../src/progress/safe-renderers.js';
import { logRenderer, rendererOptions } from '../../src/run/pipeline.js';
import { RunLog } from '../../src/progress/run-log.js';
import { reportError } from '../../src/run/report-error.js';
import { SourceError } from '../../src/errors.js';
import { escapedLines, humanSideChannel, logSideChannel, printWarnings } from '../../src/run/main.js';
import { JsonLinesSink, makeEvent } from '../../src/progress/events.js';
import { formatVmTable } from '../../src/cli/list.js';
import { formatSummary, stageLine, type BatchReport } from '../../src/cli/batch/run.js';
import { bootedLine, consoleTail } from '../../src/cli/verify.js';
import { printBatchLine } from '../../src/cli/batch/command.js';
import { HOSTILE, HOSTILE_SHOWN, isValidUtf8, rawControls } from '../helpers/hostile-text.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-safe-output-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** The pipeline's options for a renderer the user sees (not silent). */
function shown(choice: 'live' | 'lines') {
  return rendererOptions(choice) as {
    renderer: unknown;
    rendererOptions: Record<string, unknown>;
    fallbackRendererOptions: { logger: unknown };
  };
}

/** A shorter hostile string: the live renderer wraps at 80 columns. */
const NAME = 'evil\u001b]0;pwned\u0007\u001b[2J\u001b[31mRED';
const NAME_SHOWN = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED';

/** Captures what process.stdout and process.stderr are given. */
function captureStdio(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

/** The stages of a run whose source says HOSTILE things, the second failing with a hostile message. */
function hostileTasks(): ListrTask[] {
  return [
    {
      title: 'Setting up the source',
      task: (_ctx, task) => {
        task.title = `Source: /vms/${NAME}.vmx`;
        task.output = `${NAME}: 1 vCPU, 1024 MiB, 1 disk(s)`;
      },
    },
    {
      title: 'Checking the target and the host',
      task: () => {
        throw new SourceError(`The guest name ${NAME} is not valid`);
      },
    },
  ];
}

/** listr2's own sequences: colours (SGR), cursor movement and line erasing (log-update), cursor hide/show. */
const LISTR2_OWN = /\u001b\[[0-9;]*[mGAKJ]|\u001b\[\?25[lh]/g;

describe('the live task list (a terminal)', () => {
  /** The pipeline's live renderer, allowed off a terminal for this test only. */
  class OffTerminal extends SafeDefaultRenderer {
    static override nonTTY = true;
  }

  /** Runs the hostile tasks with `renderer`; returns every byte it wrote. */
  async function render(renderer: typeof DefaultRenderer): Promise<string> {
    let written = '';
    const stream = createWritable((chunk) => (written += chunk)) as unknown as NodeJS.WriteStream;
    const live = shown('live');
    const list = new Listr(hostileTasks(), {
      renderer,
      rendererOptions: { ...live.rendererOptions, logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) },
      exitOnError: true,
    });
    await list.run().catch(() => undefined);
    return written;
  }

  it('is the safe renderer in the pipeline, with the safe line renderer as fallback', () => {
    const live = shown('live');
    expect(live.renderer).toBe(SafeDefaultRenderer);
    expect(live.fallbackRendererOptions.logger).toBeInstanceOf(SafeListrLogger);
  });

  it('shows titles and output escaped, and keeps the colours and cursor moves listr2 adds', async () => {
    const written = await render(OffTerminal);
    expect(written).toContain(`Source: /vms/${NAME_SHOWN}.vmx`);
    // listr2 drops BEL and erase sequences from a task's output itself, before the renderer escapes the rest.
    expect(written).toContain('evil\\x1b]0;pwned\\x1b[31mRED: 1 vCPU');
    expect(written).toMatch(/\u001b\[32m✔\u001b\[39m Source:/); // listr2's green tick
    expect(written).toContain('\u001b[?25l'); // its hidden cursor
    // Nothing else: no window title, bell, clear screen, forged colour.
    for (const raw of ['\u001b]', '\u0007', '\u001b[2J', '\u001b[31mRED', '\r', '\b']) expect(written).not.toContain(raw);
    expect(rawControls(written.replace(LISTR2_OWN, ''), { newlines: true })).toEqual([]);
  });

  it("(control: listr2's renderer alone prints them raw)", async () => {
    class Plain extends DefaultRenderer {
      static override nonTTY = true;
    }
    const written = await render(Plain);
    expect(written).toContain('\u001b]0;pwned\u0007');
  });
});

describe('piped lines and the run log', () => {
  it('the line renderer escapes titles, output and the failure message before its icons and timestamp', async () => {
    let written = '';
    const stream = createWritable((chunk) => (written += chunk)) as unknown as NodeJS.WriteStream;
    const lines = shown('lines');
    expect(lines.rendererOptions.logger).toBeInstanceOf(SafeListrLogger);
    const logger = new SafeListrLogger({ processOutput: new ProcessOutput(stream, stream) });
    const list = new Listr(hostileTasks(), {
      renderer: 'simple',
      rendererOptions: { ...lines.rendererOptions, logger },
      exitOnError: true,
    });
    await list.run().catch(() => undefined);
    expect(written).toContain(`Source: /vms/${NAME_SHOWN}.vmx`);
    expect(written).toContain(`${NAME_SHOWN}: 1 vCPU`);
    expect(written).toContain(`The guest name ${NAME_SHOWN} is not valid`);
    expect(written).toMatch(/\u001b\[2m\[\d\d:\d\d:\d\d\]\u001b\[22m/); // listr2's dimmed timestamp
    expect(rawControls(written.replace(LISTR2_OWN, ''), { newlines: true })).toEqual([]);
    // Control: listr2's own logger writes them raw.
    let plain = '';
    const plainStream = createWritable((chunk) => (plain += chunk)) as unknown as NodeJS.WriteStream;
    const raw = new ListrLogger({ processOutput: new ProcessOutput(plainStream, plainStream) });
    await new Listr(hostileTasks(), { renderer: 'simple', rendererOptions: { logger: raw } }).run().catch(() => undefined);
    expect(plain).toContain('\u001b]0;pwned\u0007');
  });

  it('the log gets the same lines escaped, without colours, and its other lines escaped too', async () => {
    const file = join(work, 'run.log');
    const log = new RunLog(() => undefined);
    log.openFile(file);
    const list = new Listr(hostileTasks(), { renderer: 'silent', exitOnError: true });
    logRenderer(list.tasks, (text) => log.write(text)).render();
    await list.run().catch(() => undefined);
    logSideChannel(log, () => undefined)(makeEvent({ type: 'warning', message: `line 2 of x.vmx: memSize = "${HOSTILE}"` }));
    log.write(escapedLines([`[10:00:00] = ${HOSTILE}`, `[10:00:00] = second line ${HOSTILE}`]));
    log.close();
    const bytes = readFileSync(file);
    const text = bytes.toString('utf8');
    expect(text).toContain(`Source: /vms/${NAME_SHOWN}.vmx`);
    expect(text).toContain(`The guest name ${NAME_SHOWN} is not valid`);
    expect(text).toMatch(new RegExp(`v2v: warning: line 2 of x\\.vmx: memSize = "${escapeRegExp(HOSTILE_SHOWN)}"\n`));
    expect(text).toContain(`[10:00:00] = second line ${HOSTILE_SHOWN}\n`);
    expect(rawControls(text, { newlines: true })).toEqual([]);
    expect(isValidUtf8(bytes)).toBe(true);
  });
});

describe('errors, warnings and the summary on stderr/stdout', () => {
  it('a typed error is one escaped line, a newline in it included; its event keeps the original for JSON', () => {
    const io = captureStdio();
    expect(reportError(new SourceError(`Cannot read ${HOSTILE}\nv2v: Finished converting`), join(work, 'x.log'))).toBe(4);
    expect(io.err()).toBe(`v2v: error: Cannot read ${HOSTILE_SHOWN}\\nv2v: Finished converting\nv2v: log: ${join(work, 'x.log')}\n`);
  });

  it('an internal error keeps the lines of its stack, each escaped', () => {
    const io = captureStdio();
    const error = new Error(`boom ${HOSTILE}`);
    error.stack = `Error: boom ${HOSTILE}\n    at somewhere (${HOSTILE}.js:1:1)`;
    expect(reportError(error)).toBe(1);
    const lines = io.err().split('\n');
    expect(lines[0]).toBe(`v2v: internal error: Error: boom ${HOSTILE_SHOWN}`);
    expect(lines[1]).toBe(`    at somewhere (${HOSTILE_SHOWN}.js:1:1)`);
    expect(rawControls(io.err(), { newlines: true })).toEqual([]);
  });

  it('warnings: as they happen (piped), or all at the end (terminal), one escaped line each', () => {
    const io = captureStdio();
    humanSideChannel('lines')(makeEvent({ type: 'warning', message: `a ${HOSTILE}\nforged line` }));
    humanSideChannel('live')(makeEvent({ type: 'warning', message: 'not now: the live renderer owns the terminal' }));
    printWarnings([`b ${HOSTILE}`]);
    expect(io.err()).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\] v2v: warning: a ${escapeRegExp(HOSTILE_SHOWN)}\\\\nforged line\n`));
    expect(io.err()).toContain(`\nv2v: warning: b ${HOSTILE_SHOWN}\n`);
    expect(io.err()).not.toContain('not now');
    expect(rawControls(io.err(), { newlines: true })).toEqual([]);
  });

  it('the summary, the -v details and the -x trace: each line escaped on its own', () => {
    expect(escapedLines([`Finished converting ${HOSTILE} in 1.0 s`, `  - installed ${HOSTILE}`])).toBe(
      `Finished converting ${HOSTILE_SHOWN} in 1.0 s\n  - installed ${HOSTILE_SHOWN}`,
    );
  });
});

describe('JSON for programs', () => {
  it('--machine-readable events are JSON lines of the original strings, with nothing raw', () => {
    const file = join(work, 'events.jsonl');
    const sink = JsonLinesSink.open({ kind: 'file', path: file });
    sink.write(makeEvent({ type: 'warning', message: HOSTILE }));
    sink.close();
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect((JSON.parse(text) as { message: string }).message).toBe(HOSTILE);
    expect(rawControls(text, { newlines: true })).toEqual([]);
  });
});

describe('v2v list, v2v batch, v2v verify', () => {
  it('list: inventory names and guest OS escaped before the columns are aligned', () => {
    const table = formatVmTable([
      { name: HOSTILE, powerState: 'poweredOff', guestFullName: `Windows\u009b2J`, disks: [{ fileName: 'x', capacityBytes: 2 ** 30 }] },
      { name: 'web01', powerState: 'poweredOn', disks: [] },
    ]);
    const lines = table.split('\n');
    expect(lines[1]).toBe(`${HOSTILE_SHOWN}  poweredOff  Windows\\u009b2J  1.0 GiB`);
    expect(lines[2]).toBe(`${'web01'.padEnd(HOSTILE_SHOWN.length)}  poweredOn   -                -`);
    expect(rawControls(table, { newlines: true })).toEqual([]);
  });

  it("batch: a guest run's stage line and the summary table escaped", () => {
    const event = JSON.stringify(makeEvent({ type: 'message', stage: 'source', phase: 'start', message: `Setting up ${HOSTILE}` }));
    const io = captureStdio();
    printBatchLine(`[10:00:00] g1: ${stageLine(event)}`);
    expect(io.out()).toBe(`[10:00:00] g1: source: Setting up ${HOSTILE_SHOWN}\n`);
    const report: BatchReport = {
      version: 1,
      manifest: 'm.yaml',
      startedAt: '',
      finishedAt: '',
      jobs: 1,
      exitCode: 6,
      guests: [{ name: 'g1', status: 'failed', exitCode: 4, error: `Cannot read ${HOSTILE}`, argv: [], files: [], log: '/l/g1.log' }],
    };
    const summary = formatSummary(report);
    expect(summary).toContain(`Cannot read ${HOSTILE_SHOWN} (/l/g1.log)`);
    expect(rawControls(summary, { newlines: true })).toEqual([]);
  });

  it('verify: the deciding console line and the console tail escaped', () => {
    expect(bootedLine(HOSTILE, 12.34, `login: ${HOSTILE}`)).toBe(
      `Booted: ${HOSTILE_SHOWN} reached userspace in 12.3 s ("login: ${HOSTILE_SHOWN}")`,
    );
    const tail = consoleTail(['ok', `\u001b[31m${HOSTILE}`]);
    expect(tail.split('\n').at(-1)).toBe(`  | \\x1b[31m${HOSTILE_SHOWN}`);
    expect(rawControls(tail, { newlines: true })).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
