#!/usr/bin/env node
/**
 * Benchmark: how many bytes a remote conversion fetches. Converts the fixture
 * guest over HTTPS (a byte-counting server on loopback) with the built v2v
 * (compiled with it to dist/bench/ by `npm run build`) and prints bytes served, the guest's allocated data
 * bytes (`qemu-img map` extents with data, on the source) and their ratio.
 * Exits 1 when the ratio is above 1.10: with the copy-on-read overlay each
 * block should be fetched about once.
 *
 *   npm run bench:remote            (-o null)
 *   npm run bench:remote -- -o local -os DIR     (= node dist/bench/remote-fetch.js -o local -os DIR)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSelfSignedCert, startHttpsServer } from './https-server.js';

/** The repository (this file runs as dist/bench/remote-fetch.js). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIMIT = 1.1;

/** The cached fixture directory (built the first time: several minutes). */
function fixtureDir(): string {
  const out = execFileSync('bash', [join(ROOT, 'test/fixtures/build-debian-guest.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!.trim();
}

/** Bytes of data in an image: qemu-img map extents with data. */
function allocatedBytes(disk: string): number {
  const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', disk], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })) as Array<{
    data: boolean;
    length: number;
  }>;
  return map.filter((e) => e.data).reduce((n, e) => n + e.length, 0);
}

const output = process.argv.slice(2);
const dir = fixtureDir();
const allocated = allocatedBytes(join(dir, 'guest.vmdk'));
const tls = await makeSelfSignedCert();
const server = await startHttpsServer({ root: dir, cert: tls.cert, key: tls.key });
const work = await mkdtemp(join(tmpdir(), 'v2v-bench-'));
const started = Date.now();
let code: number | null;
try {
  code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      'node',
      [
        join(ROOT, 'bin/v2v.js'),
        '-i',
        'vmx',
        server.url('guest.vmx'),
        '--ca-file',
        tls.cert,
        ...(output.length > 0 ? output : ['-o', 'null']),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('close', resolve);
  });
} finally {
  await server.stop();
  await rm(tls.dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}
const served = server.state.bytesServed;
const ratio = served / allocated;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(`v2v exit code:      ${code} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
console.log(`bytes served:       ${served} (${mib(served)}) in ${server.state.ranges.length} range requests`);
console.log(`guest allocated:    ${allocated} (${mib(allocated)})`);
console.log(`ratio:              ${ratio.toFixed(3)} (limit ${LIMIT})`);
process.exitCode = code !== 0 ? 2 : ratio > LIMIT ? 1 : 0;
