/**
 * --bandwidth really throttles: the exact nbdkit argv v2v builds (curl
 * plugin, rate filter) serves 4 MiB from a real HTTP server on loopback, and
 * qemu-img reads it all. At 8 Mbit/s (1 MiB/s, with nbdkit's default 2 s
 * burst) that takes >= 1.5 s; the same argv without a rate takes well under.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nbdkitCommand, nbdUri, type NbdExport } from '../../drivers/nbdkit.js';

const SIZE = 4 * 1024 * 1024;
const body = Buffer.alloc(SIZE, 0x5a);
let server: Server;
let url: string;
const work = mkdtempSync(join(tmpdir(), 'v2v-rate-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = Math.min(range && range[2] ? Number(range[2]) : SIZE - 1, SIZE - 1);
    res.writeHead(range ? 206 : 200, {
      'accept-ranges': 'bytes',
      'content-length': String(end - start + 1),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${SIZE}` } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk.img`;
});
afterAll(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

/** Serves the disk with v2v's nbdkit argv and times a full read with qemu-img; seconds. */
async function timedRead(name: string, extra: Partial<NbdExport>): Promise<number> {
  const socket = join(work, `${name}.sock`);
  const cmd = nbdkitCommand(socket, { plugin: 'curl', url, ...extra } as NbdExport);
  const child = spawn(cmd.program, cmd.args, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    const started = Date.now();
    // Async: the HTTP server answering nbdkit lives in this process.
    await promisify(execFile)('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', nbdUri(socket), join(work, `${name}.out`)]);
    return (Date.now() - started) / 1000;
  } finally {
    child.kill('SIGTERM');
  }
}

describe('--bandwidth (nbdkit rate filter)', () => {
  it('slows a real read down to the rate', async () => {
    const free = await timedRead('free', {});
    const throttled = await timedRead('slow', { rate: '8M' });
    expect(free).toBeLessThan(1.5);
    expect(throttled).toBeGreaterThanOrEqual(1.5);
  }, 30_000);
});
