import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { chooseRenderer } from '../../src/run/pipeline.js';
import { capabilities } from '../../src/cli/capabilities.js';
import { makeEvent, parseMachineReadable, STAGES } from '../../src/progress/events.js';
import { emitEvent, onEvent, reportCopyProgress } from '../../src/progress/reporter.js';
import { eventErrors, MACHINE_READABLE_SCHEMA } from '../helpers/machine-readable-schema.js';
import { INPUT_MODES } from '../../src/input/options.js';
import { OUTPUT_MODES } from '../../src/output/options.js';

const base = { quiet: false, verbose: false, trace: false };

describe('chooseRenderer', () => {
  it('live on a terminal, lines when piped or in CI, silent with -q or JSON on stdout', () => {
    expect(chooseRenderer(base, true, false)).toBe('live');
    expect(chooseRenderer(base, false, false)).toBe('lines');
    expect(chooseRenderer(base, true, true)).toBe('lines');
    expect(chooseRenderer({ ...base, quiet: true }, true, false)).toBe('silent');
    expect(chooseRenderer({ ...base, machineReadable: { kind: 'stdout' } }, true, false)).toBe('silent');
    expect(chooseRenderer({ ...base, machineReadable: { kind: 'file', path: 'f' } }, true, false)).toBe('live');
  });

  it('-v and -x use the line renderer even on a terminal (their lines would tear a live display)', () => {
    expect(chooseRenderer({ ...base, trace: true }, true, false)).toBe('lines');
    expect(chooseRenderer({ ...base, verbose: true }, true, false)).toBe('lines');
  });
});

describe('--machine-readable', () => {
  it('parses stdout, file:F and fd:N, and rejects anything else with the fix', () => {
    expect(parseMachineReadable('')).toEqual({ kind: 'stdout' });
    expect(parseMachineReadable('file:/tmp/e.jsonl')).toEqual({ kind: 'file', path: '/tmp/e.jsonl' });
    expect(parseMachineReadable('fd:3')).toEqual({ kind: 'fd', fd: 3 });
    expect(() => parseMachineReadable('fd:x')).toThrow(/--machine-readable=file:FILE or --machine-readable=fd:N/);
    expect(() => parseMachineReadable('file:')).toThrow(/Invalid/);
  });

  it('is carried by normalizeOptions', () => {
    const o = normalizeOptions({ positional: ['g.vmx'], o: 'null', machineReadable: 'fd:5' });
    expect(o.machineReadable).toEqual({ kind: 'fd', fd: 5 });
    expect(normalizeOptions({ positional: ['g.vmx'], o: 'null' }).machineReadable).toBeUndefined();
  });

  it('lists capabilities from the real mode tables', () => {
    const caps = capabilities('9.9.9');
    expect(caps[0]).toBe('v2v-9.9.9');
    for (const mode of INPUT_MODES) expect(caps).toContain(`input:${mode}`);
    for (const mode of OUTPUT_MODES) expect(caps).toContain(`output:${mode}`);
    expect(caps.filter((c) => c.startsWith('input:'))).toHaveLength(INPUT_MODES.length);
    expect(caps).toContain('convert:linux');
    expect(caps).toContain('convert:windows');
    expect(caps).toContain('mac-ip-option');
  });

  it('events built by the code validate against the documented schema; broken ones do not', () => {
    expect(MACHINE_READABLE_SCHEMA['properties']).toHaveProperty('stage.enum', [...STAGES]);
    const good = [
      makeEvent({ type: 'message', stage: 'copy', phase: 'start', message: 'Copying disks' }),
      makeEvent({ type: 'progress', stage: 'copy', message: 'disk 1: 50.0%', progress: { disk: 1, done: 5, total: 10, percent: 50 } }),
      makeEvent({ type: 'result', message: 'converted', exitCode: 0, name: 'g', files: ['/x'] }),
      makeEvent({
        type: 'info',
        stage: 'convert',
        message:
          'network: NIC 00:0c:29:3a:5b:7c: ens192 (matched by pci-slot) [192.0.2.10/24]: pinned ens192 by /etc/systemd/network/10-v2v-ens192.link',
        network: {
          mac: '00:0c:29:3a:5b:7c',
          names: ['ens192'],
          matchedBy: 'pci-slot',
          pinned: 'ens192',
          files: ['/etc/systemd/network/10-v2v-ens192.link'],
          staticIps: [{ address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: [] }],
          source: 'guest',
        },
      }),
    ];
    for (const event of good) expect(eventErrors(JSON.parse(JSON.stringify(event)))).toEqual([]);
    expect(eventErrors({ type: 'message', timestamp: new Date().toISOString(), message: 'no stage' })).toEqual(
      expect.arrayContaining([expect.stringContaining("must have required property 'stage'")]),
    );
    expect(
      eventErrors({
        type: 'progress',
        timestamp: '2026-01-01T00:00:00Z',
        message: '',
        stage: 'copy',
        progress: { disk: 1, done: -1, total: 1, percent: 101 },
      }),
    ).toHaveLength(2);
    expect(eventErrors({ type: 'bogus', timestamp: 'now', message: 1, extra: true }).length).toBeGreaterThanOrEqual(4);
    // A timestamp of the right shape that is no date: only the format (ajv-formats) catches it.
    expect(eventErrors({ type: 'info', timestamp: '2026-13-45T25:00:00Z', message: '' })).toEqual([
      '/timestamp must match format "date-time"',
    ]);
    // A network report with a malformed MAC and an unknown matchedBy is refused.
    expect(
      eventErrors({
        type: 'info',
        timestamp: '2026-01-01T00:00:00Z',
        message: '',
        network: { mac: '00-0C-29', names: [], matchedBy: 'guess', files: [], staticIps: [], source: 'guest' },
      }),
    ).toHaveLength(2);
  });
});

describe('the event bus', () => {
  it('stamps events, tags them with the running stage, and throttles copy progress to one a second (100% always)', () => {
    const seen: Array<Record<string, unknown>> = [];
    const off = onEvent((e) => seen.push({ ...e }));
    try {
      emitEvent({ type: 'message', stage: 'preflight', phase: 'start', message: 'Checking' });
      emitEvent({ type: 'warning', message: 'KVM is not usable' });
      reportCopyProgress(7, 10, 1000);
      reportCopyProgress(7, 20, 1000);
      reportCopyProgress(7, 100, 1000);
    } finally {
      off();
    }
    expect(seen[1]).toMatchObject({ type: 'warning', stage: 'preflight' });
    expect(Date.parse(seen[1]!['timestamp'] as string)).not.toBeNaN();
    expect(seen.filter((e) => e['type'] === 'progress').map((e) => e['progress'])).toEqual([
      { disk: 7, done: 100, total: 1000, percent: 10 },
      { disk: 7, done: 1000, total: 1000, percent: 100 },
    ]);
  });
});

describe('exit codes', () => {
  it('are the documented ones', () => {
    expect(ExitCode).toEqual({
      ok: 0,
      internal: 1,
      usage: 2,
      preflight: 3,
      conversion: 4,
      copy: 5,
      batchFailed: 6,
      bootFailed: 7,
      interrupted: 130,
    });
  });
});
