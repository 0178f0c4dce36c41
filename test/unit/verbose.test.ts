import { describe, expect, it } from 'vitest';
import { configureExec, run, type RunResult } from '../../src/host/exec.js';
import { DETAIL_LINES, formatDetails } from '../../src/progress/verbose.js';

describe('-v details', () => {
  it('every command run hands its output to the details hook', async () => {
    const seen: Array<[string, RunResult]> = [];
    configureExec({ details: (argv, result) => seen.push([argv, result]) });
    try {
      await run({ program: 'sh', args: ['-c', 'echo removing open-vm-tools; echo warn >&2; exit 3'] }, { allowFailure: true });
    } finally {
      configureExec({ details: undefined });
    }
    expect(seen).toEqual([["sh -c 'echo removing open-vm-tools; echo warn >&2; exit 3'", { stdout: 'removing open-vm-tools\n', stderr: 'warn\n', exitCode: 3 }]]);
  });
  it('formats the argv and the last lines of output, timestamped', () => {
    expect(formatDetails('guestfish --remote -- sh update-initramfs', 'update-initramfs: Generating /boot/initrd.img-6.1.0\n', '', 0, '12:00:00')).toEqual([
      '[12:00:00] = guestfish --remote -- sh update-initramfs (exit code 0)',
      '[12:00:00] = update-initramfs: Generating /boot/initrd.img-6.1.0',
    ]);
    expect(formatDetails('true', '', '', 0, 't')).toEqual([]);
    const long = formatDetails('cat big', Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n'), '', 0, 't');
    expect(long).toHaveLength(DETAIL_LINES + 2);
    expect(long[1]).toBe('[t] = (30 earlier lines cut)');
    expect(long.at(-1)).toBe('[t] = line 49');
  });
});
