/**
 * Options of a warm migration (`--warm` with a vSphere source): where the
 * pre-copy lives, how often it is refreshed, when to cut over and how the
 * guest is stopped. Parsed and checked here; src/cli/options.ts only calls
 * {@link normalizeWarmOptions}. How it runs: docs/warm-migration.md.
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** When the cut-over happens. */
export type CutoverWhen =
  /** After one pre-copy pass of this run (the first, full, one when there is none yet). */
  | { kind: 'now' }
  /** Never in this run: pre-copy passes only (one, or one per interval until stopped). */
  | { kind: 'never' }
  /** At a time (ms since the epoch): passes every interval until then. */
  | { kind: 'time'; at: number }
  /** When a file appears (a trigger another program creates): passes every interval until then. */
  | { kind: 'file'; path: string };

/** Normalized warm-migration options. */
export interface WarmOptions {
  /** Directory of the pre-copy disks and the state file (absolute). */
  precopyDir: string;
  /** Time between two pre-copy passes while waiting for the cut-over (ms); absent with `--cutover never`: one pass, then exit. */
  interval?: number;
  cutover: CutoverWhen;
  /** How long the guest may take to shut down (ms). */
  shutdownTimeout: number;
  /** Power the VM off when the guest cannot be shut down (no VMware Tools, timeout). */
  powerOffFallback: boolean;
  /** Turn Changed Block Tracking on when it is off (a reconfiguration of the VM). */
  enableCbt: boolean;
  /** Quiesce the guest's filesystems (VMware Tools) for each pre-copy snapshot. */
  quiesce: boolean;
}

/** The warm flags as the command line gave them. */
export interface RawWarmOptions {
  warm?: boolean;
  precopyDir?: string;
  precopyInterval?: string;
  cutover?: string;
  shutdownTimeout?: string;
  powerOffFallback?: boolean;
  enableCbt?: boolean;
  quiesce?: boolean;
}

/** Defaults: a pass an hour while waiting; ten minutes for the guest to shut down. */
export const DEFAULT_INTERVAL_MS = 3_600_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 600_000;

/** The `--cutover` words (completion offers them; TIME and file:PATH besides). */
export const CUTOVER_WORDS = ['now', 'never', 'file:'] as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration: one or more NUMBER+UNIT (ms, s, m, h, d), e.g. "90s", "10m", "1h30m". Undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.trim().matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}

/** "1h", "10m", "90s": a duration as the messages show it. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Parses `--cutover`: now, never, file:PATH, a local time HH:MM (the next
 * one from `now`) or a date and time YYYY-MM-DDTHH:MM[:SS] (local time, or
 * with Z / ±HH:MM). A time already past is refused.
 */
export function parseCutover(spec: string, now: Date = new Date()): CutoverWhen {
  const shape = `give now, never, file:PATH, a time HH:MM or a date and time YYYY-MM-DDTHH:MM`;
  if (spec === 'now' || spec === 'never') return { kind: spec };
  if (spec.startsWith('file:')) {
    if (spec.length === 5) throw new UsageError(`--cutover file: needs a path: e.g. "--cutover file:/var/tmp/web01.cutover".`);
    return { kind: 'file', path: resolve(spec.slice(5)) };
  }
  const hm = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(spec);
  if (hm) {
    const at = new Date(now);
    at.setHours(Number(hm[1]), Number(hm[2]), 0, 0);
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    return { kind: 'time', at: at.getTime() };
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$/.test(spec)) {
    const at = new Date(spec.replace(' ', 'T'));
    if (Number.isNaN(at.getTime())) throw new UsageError(`--cutover ${spec} is not a valid date and time: ${shape}.`);
    if (at.getTime() <= now.getTime()) {
      throw new UsageError(`--cutover ${spec} is in the past: give a later time, or "now".`);
    }
    return { kind: 'time', at: at.getTime() };
  }
  throw new UsageError(`Invalid "--cutover ${spec}": ${shape}.`);
}

function duration(flag: string, value: string | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`Invalid "${flag} ${value}": give a duration such as 90s, 10m, 1h or 1h30m.`);
  if (ms < minimum) throw new UsageError(`${flag} ${value} is too short: give at least ${formatDuration(minimum)}.`);
  return ms;
}

/** Flags that only mean something with --warm, by their raw key. */
const WARM_ONLY: [keyof RawWarmOptions, string][] = [
  ['precopyDir', '--precopy-dir'],
  ['precopyInterval', '--precopy-interval'],
  ['cutover', '--cutover'],
  ['shutdownTimeout', '--shutdown-timeout'],
  ['powerOffFallback', '--power-off-fallback'],
  ['enableCbt', '--enable-cbt'],
  ['quiesce', '--quiesce'],
];

/** What the rules need to know of the rest of the command line. */
export interface WarmContext {
  /** The source is a vSphere VM (-ic). */
  vsphere: boolean;
  printSource: boolean;
  /** The output mode and its -os, for the default pre-copy directory. */
  outputMode: string;
  outputStorage?: string;
  now?: Date;
}

/** Output modes whose -os is a directory the pre-copy may default to (and be committed into: docs/warm-migration.md). */
const DIRECTORY_OUTPUTS = new Set(['local', 'qemu', 'json', 'kubevirt']);

/**
 * Checks the warm flags; returns the options, or undefined without --warm
 * (and then no warm flag may be given). Throws UsageError naming the fix.
 */
export function normalizeWarmOptions(raw: RawWarmOptions, ctx: WarmContext): WarmOptions | undefined {
  if (!raw.warm) {
    const stray = WARM_ONLY.filter(([key]) => raw[key] !== undefined && raw[key] !== false).map(([, flag]) => flag);
    if (stray.length > 0) {
      throw new UsageError(
        `${stray.join(', ')} only ${stray.length > 1 ? 'apply' : 'applies'} to a warm migration: add --warm (with a vSphere source, -ic), or remove ${stray.length > 1 ? 'them' : 'it'}.`,
      );
    }
    return undefined;
  }
  if (!ctx.vsphere) {
    throw new UsageError(
      `--warm copies a running VM from vCenter or ESXi: give the source as -ic 'vpx://USER@VCENTER/DC/HOST' -ip FILE VMNAME (other sources are copied cold).`,
    );
  }
  if (ctx.printSource) throw new UsageError(`--print-source only reads the source and --warm copies it: use one of them.`);
  const cutover = parseCutover(raw.cutover ?? 'now', ctx.now);
  if (raw.precopyInterval !== undefined && cutover.kind === 'now') {
    throw new UsageError(
      `--precopy-interval does nothing with --cutover now (one pass, then the cut-over): remove it, or give --cutover never|TIME|file:PATH.`,
    );
  }
  const interval = duration('--precopy-interval', raw.precopyInterval, DEFAULT_INTERVAL_MS, 1000);
  let precopyDir: string;
  if (raw.precopyDir !== undefined) {
    if (raw.precopyDir === '') throw new UsageError(`--precopy-dir needs a directory: e.g. "--precopy-dir /var/lib/v2v/precopy".`);
    precopyDir = resolve(raw.precopyDir);
  } else if (DIRECTORY_OUTPUTS.has(ctx.outputMode) && ctx.outputStorage !== undefined) {
    precopyDir = resolve(ctx.outputStorage);
  } else {
    throw new UsageError(
      `A warm migration with -o ${ctx.outputMode} needs --precopy-dir DIR: a directory with room for the VM's disks (the pre-copy), kept until the cut-over.`,
    );
  }
  return {
    precopyDir,
    ...(cutover.kind === 'never' && raw.precopyInterval === undefined ? {} : { interval }),
    cutover,
    shutdownTimeout: duration('--shutdown-timeout', raw.shutdownTimeout, DEFAULT_SHUTDOWN_TIMEOUT_MS, 1000),
    powerOffFallback: raw.powerOffFallback ?? false,
    enableCbt: raw.enableCbt ?? false,
    quiesce: raw.quiesce ?? false,
  };
}
