import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHeartbeat } from '../../src/progress/heartbeat.js';
import { emitEvent, onEvent } from '../../src/progress/reporter.js';
import type { V2vEvent } from '../../src/progress/events.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('heartbeat', () => {
  it('reports the running stage after 10 s of silence, again every 10 s, and stops with the stage', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const events: V2vEvent[] = [];
    const off = onEvent((e) => events.push(e));
    const stop = startHeartbeat((line) => lines.push(line));
    try {
      emitEvent({ type: 'message', stage: 'convert', phase: 'start', message: 'Converting Debian 12' });
      vi.advanceTimersByTime(9_000);
      expect(lines).toEqual([]);
      emitEvent({ type: 'trace', message: 'guestfish ...' }); // a command is no sign of progress for the reader
      vi.advanceTimersByTime(1_000);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^… \[\d\d:\d\d:\d\d\] still working: Converting Debian 12 \(10 s\)$/);
      vi.advanceTimersByTime(10_000);
      expect(lines[1]).toMatch(/still working: Converting Debian 12 \(20 s\)$/);
      expect(events.filter((e) => e.type === 'info').map((e) => [e.stage, e.message])).toEqual([
        ['convert', 'still working: Converting Debian 12 (10 s)'],
        ['convert', 'still working: Converting Debian 12 (20 s)'],
      ]);
      emitEvent({ type: 'message', stage: 'convert', phase: 'end', message: 'Converted' });
      vi.advanceTimersByTime(30_000);
      expect(lines).toHaveLength(2);
    } finally {
      stop();
      off();
    }
  });
  it('stays quiet while events keep coming', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const stop = startHeartbeat((line) => lines.push(line));
    try {
      emitEvent({ type: 'message', stage: 'copy', phase: 'start', message: 'Copying' });
      for (let i = 0; i < 10; i++) {
        vi.advanceTimersByTime(5_000);
        emitEvent({ type: 'progress', message: 'disk 1', progress: { disk: 1, done: i, total: 10, percent: i * 10 } });
      }
      expect(lines).toEqual([]);
    } finally {
      stop();
    }
  });
});
