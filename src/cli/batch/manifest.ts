/**
 * `v2v batch` manifests: a list of guests, each with the options of a single
 * run, read from JSON or YAML (the `yaml` package) and validated against a
 * JSON schema (ajv, manifest-schema.ts) before anything runs: an unknown key or a wrong type stops
 * the batch with the entry and the fix. Each entry is then checked with the
 * command line's own rules (normalizeOptions), so a bad option fails that
 * guest at once instead of after the others converted.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../errors.js';
import { normalizeOptions, type RawOptions } from '../options.js';
import { isRemoteSource } from '../../remote/url.js';
import { MANIFEST_KEYS, MANIFEST_SCHEMA } from './manifest-schema.js';
import { isDirectoryOutput } from '../../output/options.js';
import type { Options } from '../../../stages/context.js';
import { didYouMean } from '../../text/did-you-mean.js';

/** One guest as written in the manifest (see manifest-schema.ts). */
export interface ManifestGuest {
  /** Unique key: names the log files and the report entry, and the output (-on) unless output.name is set. */
  name?: string;
  /**
   * The source. A vSphere VM: `connection` (-ic vpx://... or esx://...),
   * `passwordFile` (-ip), optional `caFile` (--ca-file), and `paths` = [VM name].
   */
  input: {
    mode?: string;
    paths?: string[];
    path?: string;
    format?: string;
    /** --allow-dir DIR, repeatable (relative to the manifest). */
    allowDirs?: string[];
    connection?: string;
    transport?: string;
    passwordFile?: string;
    sshIdentity?: string;
    knownHosts?: string;
    sshFingerprint?: string;
    caFile?: string;
    insecure?: boolean;
    bandwidth?: string;
    bandwidthFile?: string;
  };
  output: {
    mode: string;
    storage?: string;
    connection?: string;
    format?: string;
    allocation?: string;
    name?: string;
    compressed?: boolean;
    domainType?: string;
    noSpaceCheck?: boolean;
  };
  networks?: string[];
  bridges?: string[];
  macs?: string[];
  root?: string;
  virtioWin?: string;
  verbose?: boolean;
  trace?: boolean;
  /** --log-file (relative to the manifest) and --no-log-file: the guest's own run log. */
  logFile?: string;
  noLogFile?: boolean;
  /** --verify: "checksum", "boot", "all" (or true), "none" (or false); absent: the default. */
  verify?: string | boolean;
}

/** A guest ready to run: its key, the v2v argv and options, or why it cannot run. */
export interface PlannedGuest {
  name: string;
  argv: string[];
  /** The normalized options (absent when invalid): what the batch preflights. */
  options?: Options;
  /** A usage problem found before running (the guest is reported as invalid). */
  invalid?: string;
}

/** Guest keys usable as file names. */
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

// allowUnionTypes: verify is a string or a boolean.
const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile<{ guests: ManifestGuest[] }>(MANIFEST_SCHEMA);

/** Reads a manifest file (.json, or .yaml/.yml) and plans every guest. Throws UsageError when the file itself is unusable. */
export async function loadManifest(path: string): Promise<PlannedGuest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the manifest ${path} (${error instanceof Error ? error.message : String(error)}): check the path.`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let data: unknown;
  try {
    data = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\.$/, '');
    throw new UsageError(`The manifest ${path} is not valid ${yaml ? 'YAML' : 'JSON'} (${detail}): fix it.`);
  }
  return planGuests(data, dirname(resolve(path)), path);
}

/** Plans the guests of parsed manifest data; relative paths are relative to `baseDir`. Throws UsageError for schema errors. */
export function planGuests(data: unknown, baseDir: string, source = 'manifest'): PlannedGuest[] {
  const manifest = Array.isArray(data) ? { guests: data } : data;
  if (Array.isArray((manifest as { guests?: unknown } | null)?.guests) && (manifest as { guests: unknown[] }).guests.length === 0) {
    throw new UsageError('The manifest lists no guests: give a non-empty "guests" array (or a top-level array).');
  }
  if (!validate(manifest)) {
    const problems = (validate.errors ?? []).slice(0, 5).map(describeError);
    throw new UsageError(
      `The ${source === 'manifest' ? 'manifest' : `manifest ${source}`} is invalid: ${[...new Set(problems)].join('; ')}; nothing was run.`,
    );
  }
  const seen = new Set<string>();
  const logs = new Map<string, string>();
  return manifest.guests.map((entry, index) => {
    const guest = planGuest(entry, index, baseDir);
    if (seen.has(guest.name)) {
      throw new UsageError(`Guest name "${guest.name}" appears twice in the manifest: give each guest a unique "name".`);
    }
    seen.add(guest.name);
    // A log file is never overwritten: the second guest would fail at its start, after the first one's conversion.
    // The schema makes it a non-empty string when given; resolved as planGuest resolves it for --log-file.
    const log = entry.logFile === undefined ? undefined : resolve(baseDir, entry.logFile);
    if (log !== undefined) {
      const other = logs.get(log);
      if (other !== undefined)
        throw new UsageError(
          `Guests "${other}" and "${guest.name}" both have the "logFile" ${log}: give each guest its own (or leave it out), nothing was run.`,
        );
      logs.set(log, guest.name);
    }
    return guest;
  });
}

/** One ajv error as a phrase naming the entry, the key and the fix. */
function describeError(error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1);
  const where =
    parts[0] === 'guests' && parts[1] !== undefined
      ? `guest ${Number(parts[1]) + 1}${parts.length > 2 ? ` "${parts.slice(2).join('.')}"` : ''}`
      : parts.length > 0
        ? `"${parts.join('.')}"`
        : 'the top level';
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const level =
      parts.at(-1) === 'input'
        ? MANIFEST_KEYS.input
        : parts.at(-1) === 'output'
          ? MANIFEST_KEYS.output
          : parts.length === 2
            ? MANIFEST_KEYS.guest
            : ['guests'];
    // A flag's own spelling (no-space-check, virtio_win) names its camelCase key.
    const camel = key.replace(/[-_]+([a-z])/gi, (_m, c: string) => c.toUpperCase());
    const near = level.includes(camel) ? camel : didYouMean(key, level);
    return `${where} has an unknown key "${key}"${near !== undefined ? ` (did you mean "${near}"?)` : ` (known: ${level.join(', ')})`}`;
  }
  if (error.keyword === 'required') return `${where} needs "${String((error.params as { missingProperty: string }).missingProperty)}"`;
  if (error.keyword === 'type') {
    const types = String((error.params as { type: string | string[] }).type).split(',');
    return `${where} must be ${types.map((t) => (t === 'array' ? 'a list' : `a ${t}`)).join(' or ')}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

function planGuest(g: ManifestGuest, index: number, baseDir: string): PlannedGuest {
  const fallback = `guest-${index + 1}`;
  const paths = g.input.paths ?? (g.input.path !== undefined ? [g.input.path] : []);
  const connection = g.input.connection;
  // A vSphere VM's name is the default key as is; a file's name loses its directory and extension.
  const firstFile =
    connection !== undefined
      ? paths[0]
      : paths[0]
          ?.split('/')
          .pop()
          ?.replace(/\.[^.]*$/, '');
  const name = g.name ?? g.output.name ?? firstFile ?? fallback;
  if (!KEY_RE.test(name)) {
    return {
      name: fallback,
      argv: [],
      invalid: `guest name "${name}" is not usable as a file name: use letters, digits, '.', '_', '+' or '-'`,
    };
  }
  if (paths.length === 0) return { name, argv: [], invalid: 'no "input" "paths" given' };
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p));
  const directoryOutput = isDirectoryOutput(g.output.mode);
  const { input: i, output: o } = g;
  const inputMode = i.mode ?? (connection !== undefined ? 'libvirt' : 'vmx');
  const raw: RawOptions = {
    i: inputMode,
    ic: connection,
    if: i.format,
    o: o.mode,
    os: directoryOutput ? abs(o.storage) : o.storage,
    oc: o.connection,
    of: o.format,
    oa: o.allocation,
    // The entry's name is the guest's name on the target too, as the summary says.
    on: o.name ?? name,
    network: g.networks,
    bridge: g.bridges,
    mac: g.macs,
    // A vSphere source is a VM name; remote sources stay URLs; local ones are relative to the manifest.
    positional: inputMode === 'libvirt' ? paths : paths.map((p) => (isRemoteSource(p) ? p : abs(p)!)),
    allowDir: i.allowDirs?.map((d) => abs(d)!),
    remote: {
      it: i.transport,
      ip: abs(i.passwordFile),
      sshIdentity: abs(i.sshIdentity),
      knownHosts: abs(i.knownHosts),
      sshFingerprint: i.sshFingerprint,
      caFile: abs(i.caFile),
      insecure: i.insecure,
    },
    compat: {
      bandwidth: i.bandwidth,
      bandwidthFile: abs(i.bandwidthFile),
      compressed: o.compressed,
      domainType: o.domainType,
      noSpaceCheck: o.noSpaceCheck,
    },
    root: g.root,
    virtioWin: abs(g.virtioWin),
    verbose: g.verbose,
    trace: g.trace,
    logFile: abs(g.logFile),
    noLogFile: g.noLogFile,
    ...(g.verify !== undefined ? { verify: g.verify === true ? '' : g.verify === false ? 'none' : g.verify } : {}),
  };
  const argv = toArgv(raw);
  try {
    return { name, argv, options: normalizeOptions(raw) };
  } catch (error) {
    return { name, argv, invalid: error instanceof Error ? error.message : String(error) };
  }
}

/** The v2v command line for raw options (the same words a user would type). */
export function toArgv(raw: RawOptions): string[] {
  const argv = ['-i', raw.i ?? 'vmx', ...raw.positional];
  const add = (flag: string, value: string | boolean | undefined): void => {
    if (value === true) argv.push(flag);
    else if (typeof value === 'string') argv.push(flag, value);
  };
  add('-ic', raw.ic);
  add('-if', raw.if);
  for (const d of raw.allowDir ?? []) argv.push('--allow-dir', d);
  add('-it', raw.remote?.it);
  add('-ip', raw.remote?.ip);
  add('--ssh-identity', raw.remote?.sshIdentity);
  add('--known-hosts', raw.remote?.knownHosts);
  add('--ssh-fingerprint', raw.remote?.sshFingerprint);
  add('--ca-file', raw.remote?.caFile);
  add('--insecure', raw.remote?.insecure);
  add('--bandwidth', raw.compat?.bandwidth);
  add('--bandwidth-file', raw.compat?.bandwidthFile);
  add('-o', raw.o);
  add('-os', raw.os);
  add('-oc', raw.oc);
  add('-of', raw.of);
  add('-oa', raw.oa);
  add('-on', raw.on);
  add('--compressed', raw.compat?.compressed);
  add('--domain-type', raw.compat?.domainType);
  add('--no-space-check', raw.compat?.noSpaceCheck);
  for (const n of raw.network ?? []) argv.push('-n', n);
  for (const b of raw.bridge ?? []) argv.push('-b', b);
  for (const m of raw.mac ?? []) argv.push('--mac', m);
  add('--root', raw.root);
  add('--virtio-win', raw.virtioWin);
  add('-v', raw.verbose);
  add('-x', raw.trace);
  add('--log-file', raw.logFile);
  add('--no-log-file', raw.noLogFile);
  if (raw.verify !== undefined) argv.push(raw.verify === '' ? '--verify' : `--verify=${raw.verify}`);
  return argv;
}
