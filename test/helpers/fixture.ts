/**
 * Access to the project's real test guest (a Debian 12 VMware-style VM),
 * built and cached by test/fixtures/build-debian-guest.sh.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the fixture build script. */
export const BUILD_SCRIPT = fileURLToPath(new URL('../fixtures/build-debian-guest.sh', import.meta.url));

/** Paths of the cached Debian 12 fixture guest. */
export interface Fixture {
  dir: string;
  vmx: string;
  vmdk: string;
}

let pending: Promise<Fixture> | undefined;

/** Build (first time, several minutes) or reuse the cached Debian 12 guest and return its paths. */
export function ensureFixture(): Promise<Fixture> {
  pending ??= runBuild().catch((err: unknown) => {
    pending = undefined; // allow a retry after a failure
    throw err;
  });
  return pending;
}

function runBuild(): Promise<Fixture> {
  return new Promise<Fixture>((resolve, reject) => {
    // stderr inherited so build progress shows; stdout carries only the path.
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${BUILD_SCRIPT} failed (code=${code} signal=${signal})`));
        return;
      }
      const dir = out.trim().split('\n').pop()?.trim();
      if (!dir) {
        reject(new Error(`${BUILD_SCRIPT} printed no directory`));
        return;
      }
      resolve({ dir, vmx: join(dir, 'guest.vmx'), vmdk: join(dir, 'guest.vmdk') });
    });
  });
}
