/**
 * libguestfs through one long-lived `guestfish --listen` server, so inspect,
 * convert and trim share a single appliance launch.
 *
 * Why every call is prefixed with `-`: the remote server exits on the first
 * failing command (measured: docs/host-tools.md). With the prefix it survives, exits
 * 0 and prints `libguestfs: error: ...` on stderr, which we turn into a typed
 * GuestfsError carrying the guest's own message.
 */
import { existsSync } from 'node:fs';
import { run, type Command, type RunResult } from '../src/host/exec.js';
import { CommandError, ConversionError } from '../src/errors.js';

const GUESTFISH = 'guestfish';

/** A libguestfs call failed; `call` is the guestfish command, the message is libguestfs' own. */
export class GuestfsError extends ConversionError {
  constructor(
    readonly call: string,
    readonly guestMessage: string,
  ) {
    super(`libguestfs ${call} failed: ${guestMessage}`);
  }
}

/** How a drive is added to the appliance. */
export interface DriveSpec {
  path: string;
  format: string;
  readonly?: boolean;
  /** Pass guest discards down to the image (needed for fstrim to free anything). */
  discard?: boolean;
  /** Keep blocks read from the backing file in the overlay (remote sources). */
  copyOnRead?: boolean;
  /** `unsafe` skips flushes: right for a throw-away overlay. */
  cachemode?: 'unsafe' | 'writeback';
}

/** Builds the guestfish `add-drive` words for one drive. */
export function addDriveWords(d: DriveSpec): string[] {
  const words = ['add-drive', d.path, `format:${d.format}`];
  if (d.readonly) words.push('readonly:true');
  if (d.discard) words.push('discard:enable');
  if (d.copyOnRead) words.push('copyonread:true');
  if (d.cachemode) words.push(`cachemode:${d.cachemode}`);
  return words;
}

/** Builds the command sending one call to a listening guestfish server. */
export function remoteCommand(pid: number, words: string[], keepAlive = true): Command {
  const [name, ...args] = words;
  return { program: GUESTFISH, args: [`--remote=${pid}`, '--', `${keepAlive ? '-' : ''}${name}`, ...args] };
}

/**
 * Builds one remote call running several commands in order: guestfish takes
 * commands separated by `:` words on its command line. Each is prefixed with
 * `-` so a failure is reported without killing the server.
 */
export function remoteBatchCommand(pid: number, calls: string[][]): Command {
  const words = calls.flatMap(([name, ...args], i) => [...(i > 0 ? [':'] : []), `-${name}`, ...args]);
  return { program: GUESTFISH, args: [`--remote=${pid}`, '--', ...words] };
}

/** Extracts libguestfs' error from a remote call's stderr; undefined when the call succeeded. */
export function parseRemoteError(stderr: string): string | undefined {
  const errors = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(libguestfs: error:|guestfish: )/.test(line))
    .map((line) => line.replace(/^libguestfs: error: /, ''));
  return errors.length > 0 ? errors.join('; ') : undefined;
}

/** Parses `GUESTFISH_PID=1234; export GUESTFISH_PID`. */
export function parseListenPid(stdout: string): number {
  const match = /GUESTFISH_PID=(\d+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`guestfish --listen printed no PID: ${stdout.trim()}`);
  return Number(match[1]);
}

/** Parses guestfish's `key: value` lines (hashes such as inspect-get-mountpoints). */
export function parseHash(stdout: string): Array<[string, string]> {
  return stdout
    .split('\n')
    .filter((line) => line.includes(': '))
    .map((line) => {
      const at = line.indexOf(': ');
      return [line.slice(0, at), line.slice(at + 2)] as [string, string];
    });
}

/** Splits guestfish list output (one item per line). */
export function parseLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

/** Options for launching the appliance. */
export interface LaunchOptions {
  /** Use TCG: KVM was found unusable on this host. */
  tcg: boolean;
  /** vCPUs of the appliance (TCG is multi-threaded: 2 speeds up initramfs rebuilds). */
  smp?: number;
  memsizeMiB?: number;
}

/** A running libguestfs appliance. Every method is one call; errors become GuestfsError. */
export class Guestfs {
  private closed = false;

  private constructor(
    /** PID of the guestfish server. */
    readonly serverPid: number,
    /** PID of the appliance's qemu, once launched. */
    public qemuPid: number | undefined,
  ) {}

  /** Starts a guestfish server, adds the drives and launches the appliance. */
  static async launch(drives: DriveSpec[], options: LaunchOptions): Promise<Guestfs> {
    const env: Record<string, string> = options.tcg ? { LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' } : {};
    // The server forks and keeps the stderr it inherited: with a pipe we would
    // wait for it to close forever. Its errors reach us through each call.
    const { stdout } = await run({ program: GUESTFISH, args: ['--listen'], env }, { discardStderr: true });
    const g = new Guestfs(parseListenPid(stdout), undefined);
    try {
      if (options.smp) await g.call('set-smp', String(options.smp));
      if (options.memsizeMiB) await g.call('set-memsize', String(options.memsizeMiB));
      for (const drive of drives) await g.call(...addDriveWords(drive));
      await g.call('run');
      g.qemuPid = Number((await g.call('get-pid')).trim()) || undefined;
    } catch (error) {
      await g.close();
      throw error;
    }
    return g;
  }

  /** Sends one call; returns its stdout. Throws GuestfsError with libguestfs' message on failure. */
  async call(...words: string[]): Promise<string> {
    return this.send(words[0] ?? '', remoteCommand(this.serverPid, words), words[0] === 'run' ? 'launch' : 'guestfs');
  }

  /** Runs one remote guestfish command line; `what` names it in errors. */
  private async send(what: string, command: Command, kind: 'launch' | 'guestfs'): Promise<string> {
    if (this.closed) throw new GuestfsError(what, 'the appliance is already shut down');
    let result: RunResult;
    try {
      result = await run(command, { kind });
    } catch (error) {
      if (error instanceof CommandError) throw new GuestfsError(what, error.stderr || error.message);
      throw error;
    }
    const message = parseRemoteError(result.stderr);
    if (message !== undefined) throw new GuestfsError(what, message);
    return result.stdout;
  }

  /** Copies guest files to host files in one remote call (each call of guestfish --remote costs ~0.4 s). */
  async downloadMany(pairs: Array<[guestPath: string, hostPath: string]>): Promise<void> {
    if (pairs.length === 0) return;
    await this.send(
      'download',
      remoteBatchCommand(
        this.serverPid,
        pairs.map(([from, to]) => ['download', from, to]),
      ),
      'guestfs',
    );
    // A remote download of a guest file that cannot be read prints nothing and
    // exits 0 (measured with guestfish 1.48): the missing host file is the only sign.
    for (const [from, to] of pairs) {
      if (!existsSync(to)) throw new GuestfsError('download', `${from} could not be read from the guest`);
    }
  }

  /** Lists the root filesystems inspection found (empty: no OS). */
  async inspectOs(): Promise<string[]> {
    return parseLines(await this.call('inspect-os'));
  }

  /** One `inspect-get-FIELD ROOT` value, trimmed. */
  async inspectGet(field: string, root: string): Promise<string> {
    return (await this.call(`inspect-get-${field}`, root)).trim();
  }

  /** The guest's mountpoints, shortest path first (mount order). */
  async mountpoints(root: string): Promise<Array<{ mountpoint: string; device: string }>> {
    return parseHash(await this.call('inspect-get-mountpoints', root))
      .map(([mountpoint, device]) => ({ mountpoint, device }))
      .sort((a, b) => a.mountpoint.length - b.mountpoint.length);
  }

  /** Whether a path exists in the mounted guest. */
  async exists(path: string): Promise<boolean> {
    return (await this.call('exists', path)).trim() === 'true';
  }

  /** Reads a whole text file of the guest. */
  async readFile(path: string): Promise<string> {
    return this.call('cat', path);
  }

  /** Writes a whole file in the guest. */
  async writeFile(path: string, content: string): Promise<void> {
    await this.call('write', path, content);
  }

  /** Runs a shell command inside the guest (chrooted, /dev /proc /sys bound); returns stdout. */
  async sh(script: string): Promise<string> {
    return this.call('sh', script);
  }

  /**
   * A guest path with the case its existing part has on disk (NTFS through
   * ntfs-3g is case-sensitive; Windows is not), kept absolute: libguestfs'
   * case-sensitive-path may return it without the leading slash.
   */
  async caseSensitivePath(path: string): Promise<string> {
    const resolved = (await this.call('case-sensitive-path', path)).trim();
    return resolved.startsWith('/') ? resolved : `/${resolved}`;
  }

  /** Lists a directory of the guest. */
  async ls(path: string): Promise<string[]> {
    return parseLines(await this.call('ls', path));
  }

  /**
   * Shuts the appliance down cleanly (flushing the overlays), then makes sure
   * neither the server nor its qemu survive: a killed guestfish can leave qemu
   * running (docs/host-tools.md), so both are stopped by PID.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await run(remoteCommand(this.serverPid, ['shutdown'], true), { kind: 'guestfs', allowFailure: true }).catch(() => undefined);
    await run(remoteCommand(this.serverPid, ['exit'], false), { allowFailure: true }).catch(() => undefined);
    await stopPid(this.serverPid);
    if (this.qemuPid) await stopPid(this.qemuPid);
  }
}

/** Waits up to 10 s for a process to exit, then SIGTERM, then SIGKILL. */
async function stopPid(pid: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const [waitMs, signal] of [
    [10_000, 'SIGTERM'],
    [3_000, 'SIGKILL'],
  ] as const) {
    const deadline = Date.now() + waitMs;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!alive()) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
  }
}
