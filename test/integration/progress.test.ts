import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processesWithEnv, stopRunProcesses } from '../../src/host/reaper.js';

describe('process reaper', () => {
  it('finds every process carrying a run id in its environment, and stops them', async () => {
    const id = `test-${process.pid}-${Date.now()}`;
    const child = spawn('sh', ['-c', 'sleep 60 & sleep 60; wait'], {
      env: { ...process.env, V2V_RUN_ID: id },
      stdio: 'ignore',
      detached: true,
    });
    await new Promise((r) => setTimeout(r, 300));
    const found = await processesWithEnv('V2V_RUN_ID', id);
    expect(found.length).toBe(3); // sh and both sleeps, however they are parented
    expect(found).toContain(child.pid);
    const exited = new Promise((r) => child.once('exit', r));
    expect((await stopRunProcesses(id, 1000)).sort()).toEqual(found);
    await exited;
    expect(await processesWithEnv('V2V_RUN_ID', id)).toEqual([]);
  });
});
