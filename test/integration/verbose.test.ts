import { describe, expect, it } from 'vitest';
import { configureExec, run, type RunResult } from '../../src/host/exec.js';

describe('-v details', () => {
  it('every command run hands its output to the details hook', async () => {
    const seen: Array<[string, RunResult]> = [];
    configureExec({ details: (argv, result) => seen.push([argv, result]) });
    try {
      await run({ program: 'sh', args: ['-c', 'echo removing open-vm-tools; echo warn >&2; exit 3'] }, { allowFailure: true });
    } finally {
      configureExec({ details: undefined });
    }
    expect(seen).toEqual([
      ["sh -c 'echo removing open-vm-tools; echo warn >&2; exit 3'", { stdout: 'removing open-vm-tools\n', stderr: 'warn\n', exitCode: 3 }],
    ]);
  });
});
