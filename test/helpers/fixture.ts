/**
 * Access to the project's real test guests (Debian 12 VMware-style VMs),
 * built and cached by test/fixtures/build-debian-guest.sh (BIOS) and
 * test/fixtures/build-debian-uefi-lvm-guest.sh (UEFI, LVM root).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the fixture build script. */
export const BUILD_SCRIPT = fileURLToPath(new URL('../fixtures/build-debian-guest.sh', import.meta.url));
/** Absolute path of the UEFI + LVM fixture build script. */
export const UEFI_LVM_BUILD_SCRIPT = fileURLToPath(new URL('../fixtures/build-debian-uefi-lvm-guest.sh', import.meta.url));

/** Paths of the cached Debian 12 fixture guest. */
export interface Fixture {
  dir: string;
  vmx: string;
  vmdk: string;
}

const pending = new Map<string, Promise<Fixture>>();

/** Build (first time, several minutes) or reuse the cached Debian 12 BIOS guest and return its paths. */
export function ensureFixture(): Promise<Fixture> {
  return ensureBuilt(BUILD_SCRIPT);
}

/** Build (first time, ~4.5 min plus the BIOS guest's rootfs; 1 min of it compresses the modules) or reuse the cached Debian 12 UEFI + LVM guest (.ko.zst modules). */
export function ensureUefiLvmFixture(): Promise<Fixture> {
  return ensureBuilt(UEFI_LVM_BUILD_SCRIPT);
}

function ensureBuilt(script: string): Promise<Fixture> {
  let build = pending.get(script);
  if (build === undefined) {
    build = runBuild(script).catch((err: unknown) => {
      pending.delete(script); // allow a retry after a failure
      throw err;
    });
    pending.set(script, build);
  }
  return build;
}

async function runBuild(script: string): Promise<Fixture> {
  const dir = await runCachedBuild(script, 'inherit');
  return { dir, vmx: join(dir, 'guest.vmx'), vmdk: join(dir, 'guest.vmdk') };
}

/**
 * Runs a fixture build script (they all build once, cache, and print the
 * cache directory as their last stdout line); resolves to that directory.
 * `stderr: 'inherit'` shows build progress; 'pipe' keeps it for the error.
 */
export function runCachedBuild(script: string, stderr: 'inherit' | 'pipe' = 'pipe'): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', stderr] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const dir = out.trim().split('\n').pop()?.trim();
      if (code !== 0) reject(new Error(`${script} failed (code=${code} signal=${signal})${err ? `: ${err.slice(-3000)}` : ''}`));
      else if (!dir) reject(new Error(`${script} printed no directory`));
      else resolve(dir);
    });
  });
}
