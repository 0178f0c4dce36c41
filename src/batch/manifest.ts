/**
 * `v2v batch` manifests: a list of guests, each with the options of a single
 * run, read from JSON or a small YAML subset. Each entry is checked with the
 * same rules as the command line (normalizeOptions) before anything runs, so
 * a typo fails that guest at once instead of after the others converted.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { normalizeOptions, type RawOptions } from '../options.js';
import { parseYamlSubset } from './yaml-subset.js';

/** One guest as written in the manifest. */
export interface ManifestGuest {
  /** Unique key: names the log files and the report entry. Default: -on, else the source file name. */
  name?: string;
  /**
   * The source. A vSphere VM: `connection` (-ic vpx://... or esx://...),
   * `passwordFile` (-ip), optional `caFile` (--ca-file), and `paths` = [VM name].
   */
  input: { mode?: string; paths: string[]; format?: string; connection?: string; passwordFile?: string; caFile?: string };
  output: {
    mode: string;
    storage?: string;
    connection?: string;
    format?: string;
    allocation?: string;
    name?: string;
  };
  networks?: string[];
  bridges?: string[];
  macs?: string[];
  /** --verify: "checksum", "boot", "all" (or true), "none" (or false); absent: the default. */
  verify?: string | boolean;
}

/** A guest ready to run: its key, the v2v argv, or why it cannot run. */
export interface PlannedGuest {
  name: string;
  argv: string[];
  /** A usage problem found before running (the guest is reported as invalid). */
  invalid?: string;
}

/** Guest keys usable as file names. */
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

/** Reads a manifest file (.json, or .yaml/.yml) and plans every guest. Throws UsageError when the file itself is unusable. */
export async function loadManifest(path: string): Promise<PlannedGuest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the manifest ${path} (${error instanceof Error ? error.message : String(error)}): check the path.`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYamlSubset(text) : JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The manifest ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML (of the supported subset)' : 'JSON'}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  return planGuests(data, dirname(resolve(path)));
}

/** Plans the guests of parsed manifest data; relative paths are relative to `baseDir`. */
export function planGuests(data: unknown, baseDir: string): PlannedGuest[] {
  const list = Array.isArray(data) ? data : (data as { guests?: unknown } | null)?.guests;
  if (!Array.isArray(list) || list.length === 0) {
    throw new UsageError('The manifest lists no guests: give a non-empty "guests" array (or a top-level array).');
  }
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const guest = planGuest(entry, index, baseDir);
    if (seen.has(guest.name)) {
      throw new UsageError(`Guest name "${guest.name}" appears twice in the manifest: give each guest a unique "name".`);
    }
    seen.add(guest.name);
    return guest;
  });
}

function planGuest(entry: unknown, index: number, baseDir: string): PlannedGuest {
  const fallback = `guest-${index + 1}`;
  if (typeof entry !== 'object' || entry === null) {
    return { name: fallback, argv: [], invalid: `entry ${index + 1} is not an object` };
  }
  const g = entry as Partial<ManifestGuest>;
  const singlePath = (g.input as { path?: unknown } | undefined)?.path;
  const paths = Array.isArray(g.input?.paths) ? g.input.paths.map(String) : typeof singlePath === 'string' ? [singlePath] : [];
  // A vSphere VM's name is the default key as is; a file's name loses its directory and extension.
  const firstFile = typeof g.input?.connection === 'string' ? paths[0] : paths[0]?.split('/').pop()?.replace(/\.[^.]*$/, '');
  const name = g.name ?? g.output?.name ?? firstFile ?? fallback;
  if (!KEY_RE.test(name)) {
    return { name: fallback, argv: [], invalid: `guest name "${name}" is not usable as a file name: use letters, digits, '.', '_', '+' or '-'` };
  }
  if (!g.input || paths.length === 0) return { name, argv: [], invalid: 'no "input" with "paths" given' };
  if (!g.output || typeof g.output.mode !== 'string') return { name, argv: [], invalid: 'no "output" with a "mode" given' };
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const directoryOutput = ['local', 'qemu', 'json'].includes(g.output.mode);
  const connection = typeof g.input.connection === 'string' ? g.input.connection : undefined;
  const inputMode = g.input.mode ?? (connection !== undefined ? 'libvirt' : 'vmx');
  const remote = {
    ...(typeof g.input.passwordFile === 'string' ? { ip: abs(g.input.passwordFile) } : {}),
    ...(typeof g.input.caFile === 'string' ? { caFile: abs(g.input.caFile) } : {}),
  };
  const raw: RawOptions = {
    i: inputMode,
    ...(connection !== undefined ? { ic: connection } : {}),
    ...(Object.keys(remote).length > 0 ? { remote } : {}),
    ...(g.input.format !== undefined ? { if: g.input.format } : {}),
    o: g.output.mode,
    ...(g.output.storage !== undefined ? { os: directoryOutput ? abs(g.output.storage) : g.output.storage } : {}),
    ...(g.output.connection !== undefined ? { oc: g.output.connection } : {}),
    ...(g.output.format !== undefined ? { of: g.output.format } : {}),
    ...(g.output.allocation !== undefined ? { oa: g.output.allocation } : {}),
    ...(g.output.name !== undefined ? { on: g.output.name } : {}),
    ...(g.networks ? { network: g.networks.map(String) } : {}),
    ...(g.bridges ? { bridge: g.bridges.map(String) } : {}),
    ...(g.macs ? { mac: g.macs.map(String) } : {}),
    ...(g.verify !== undefined ? { verify: g.verify === true ? '' : g.verify === false ? 'none' : String(g.verify) } : {}),
    // A vSphere source is a VM name, not a file.
    positional: inputMode === 'libvirt' ? paths : paths.map(abs),
  };
  const argv = toArgv(raw);
  try {
    normalizeOptions(raw);
  } catch (error) {
    return { name, argv, invalid: error instanceof Error ? error.message : String(error) };
  }
  return { name, argv };
}

/** The v2v command line for raw options (the same words a user would type). */
export function toArgv(raw: RawOptions): string[] {
  const argv = ['-i', raw.i ?? 'vmx', ...raw.positional];
  const add = (flag: string, value: string | undefined): void => {
    if (value !== undefined) argv.push(flag, value);
  };
  add('-ic', raw.ic);
  add('-ip', raw.remote?.ip);
  add('--ca-file', raw.remote?.caFile);
  add('-if', raw.if);
  add('-o', raw.o);
  add('-os', raw.os);
  add('-oc', raw.oc);
  add('-of', raw.of);
  add('-oa', raw.oa);
  add('-on', raw.on);
  for (const n of raw.network ?? []) argv.push('-n', n);
  for (const b of raw.bridge ?? []) argv.push('-b', b);
  for (const m of raw.mac ?? []) argv.push('--mac', m);
  if (raw.verify !== undefined) argv.push(raw.verify === '' ? '--verify' : `--verify=${raw.verify}`);
  return argv;
}
