/**
 * Runs the built v2v CLI as a user would, and libguestfs on its results.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { probeAccelerator } from '../../drivers/qemu-system.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What a v2v run printed and returned. */
export interface V2vRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs `node bin/v2v.js ARGS` with stdout piped (so the line renderer is used). */
export async function runV2v(args: string[], env: Record<string, string> = {}): Promise<V2vRun> {
  const started = Date.now();
  const result = await execa('node', [`${ROOT}/bin/v2v.js`, ...args], { reject: false, env, cwd: ROOT, stdin: 'ignore' });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    seconds: (Date.now() - started) / 1000,
  };
}

/** sha256 of a file, streamed. */
export async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Runs a guestfish script read-only against a disk with the guest's
 * filesystems mounted (-i). Uses TCG when KVM is unusable, as v2v does.
 * `writable`: the script may also write (a test's own probe in a converted
 * disk, never the source).
 */
export async function guestfishRead(disk: string, format: string, script: string, { writable = false } = {}): Promise<string> {
  const kvm = await probeAccelerator('kvm');
  const result = await execa('guestfish', [...(writable ? [] : ['--ro']), '--format=' + format, '-a', disk, '-i'], {
    input: script,
    env: { LANG: 'C', ...(kvm.usable ? {} : { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' }) },
    reject: false,
  });
  if (result.exitCode !== 0) throw new Error(`guestfish failed (${result.exitCode}): ${result.stderr}`);
  return String(result.stdout);
}

/** Splits output of a guestfish script whose sections start with `echo ==NAME==`. */
export function sections(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current = '';
  for (const line of output.split('\n')) {
    const m = /^==(\w+)==$/.exec(line);
    if (m?.[1]) {
      current = m[1];
      out[current] = '';
    } else if (current) {
      out[current] += `${line}\n`;
    }
  }
  return out;
}
