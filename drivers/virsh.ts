/**
 * virsh: reach a libvirt daemon, look up domains, storage pools and volumes,
 * define and undefine domains, read domain capabilities. Every command is
 * `virsh -c URI ...`, built by a pure function; parsers turn virsh's text or
 * XML (recorded from libvirt 9.0, see test/unit/fixtures/virsh) into typed
 * values.
 *
 * virsh reports "not found" only as text on stderr with exit code 1, the same
 * code as any other failure; the runners below map the not-found messages to
 * `undefined` and let everything else throw CommandError. The connection is
 * checked first ({@link libvirtUri}) so a not-found is never a connection
 * failure in disguise.
 */
import { inspect } from 'node:util';
import { parseString } from 'xml2js';
import { CommandError } from '../src/errors.js';
import { formatCommand, run, trimStderr, type Command } from '../src/host/exec.js';

const VIRSH = 'virsh';

/** A storage pool as `virsh pool-info --bytes` shows it. */
export interface PoolInfo {
  name: string;
  uuid: string;
  /** "running", "inactive", "building", "degraded" or "inaccessible". */
  state: string;
  persistent: boolean;
  autostart: boolean;
  /** Bytes; only shown for an active pool. */
  capacity?: number;
  allocation?: number;
  available?: number;
}

/** A storage pool as its XML (`virsh pool-dumpxml`) defines it. */
export interface PoolDefinition {
  name: string;
  /** Pool type: "dir", "netfs", "logical", ... */
  type: string;
  /** Directory the pool's volumes live in (absent for some pool types). */
  targetPath?: string;
  /** Bytes, as of the last pool start or refresh; 0 for an inactive pool. */
  capacity: number;
  allocation: number;
  available: number;
}

/** One row of `virsh vol-list`. */
export interface VolumeEntry {
  name: string;
  path: string;
}

/** A volume as `virsh vol-info --bytes` shows it. */
export interface VolumeInfo {
  name: string;
  type: string;
  capacity: number;
  allocation: number;
}

/** A domain as `virsh dominfo` shows it. */
export interface DomainInfo {
  name: string;
  uuid: string;
  /** "running", "shut off", "paused", ... */
  state: string;
  persistent: boolean;
}

/** Versions from `virsh version`. */
export interface LibvirtVersion {
  /** The libvirt library virsh uses, e.g. "9.0.0". */
  library: string;
  /** The hypervisor behind the connection, e.g. "QEMU 7.2.22". */
  hypervisor?: string;
}

/** What `virsh domcapabilities` says the host can run. */
export interface DomainCapabilities {
  /** The emulator binary. */
  emulator: string;
  /** "kvm" when libvirt can use KVM here, "qemu" (TCG) otherwise. */
  domainType: string;
  /** Concrete machine type, e.g. "pc-q35-7.2". */
  machine: string;
  arch: string;
  /** Firmware kinds for `<os firmware='...'>` autoselection (e.g. ["efi"]); empty when none is installed. */
  firmware: string[];
  /** Loader (firmware code) paths libvirt knows of. */
  loaders: string[];
  /** True when a UEFI guest can be defined: efi autoselection or a known loader. */
  efi: boolean;
  /** True when a secure-boot-capable loader is available. */
  secureBoot: boolean;
}

/** Which domain capabilities to ask for; libvirt picks the best when a field is absent. */
export interface DomainCapabilitiesQuery {
  virttype?: 'kvm' | 'qemu';
  arch?: string;
  machine?: string;
}

function virsh(uri: string, args: string[]): Command {
  return { program: VIRSH, args: ['-c', uri, ...args] };
}

/** Builds `virsh uri`: the cheapest call that needs a working connection. */
export const uriCommand = (uri: string): Command => virsh(uri, ['uri']);

/** Builds `virsh version`. */
export const versionCommand = (uri: string): Command => virsh(uri, ['version']);

/** Builds `virsh domstate NAME`. */
export const domstateCommand = (uri: string, name: string): Command => virsh(uri, ['domstate', name]);

/** Builds `virsh dominfo NAME`. */
export const dominfoCommand = (uri: string, name: string): Command => virsh(uri, ['dominfo', name]);

/** Builds `virsh pool-info --bytes POOL` (exact byte counts instead of "227.05 GiB"). */
export const poolInfoCommand = (uri: string, pool: string): Command => virsh(uri, ['pool-info', '--bytes', pool]);

/** Builds `virsh pool-dumpxml POOL`. */
export const poolDumpXmlCommand = (uri: string, pool: string): Command => virsh(uri, ['pool-dumpxml', pool]);

/** Builds `virsh pool-refresh POOL`: libvirt only sees files added to a dir pool after a refresh. */
export const poolRefreshCommand = (uri: string, pool: string): Command => virsh(uri, ['pool-refresh', pool]);

/** Builds `virsh vol-info --bytes --pool POOL VOLUME`. */
export const volInfoCommand = (uri: string, pool: string, volume: string): Command =>
  virsh(uri, ['vol-info', '--bytes', '--pool', pool, volume]);

/** Builds `virsh vol-list POOL`. */
export const volListCommand = (uri: string, pool: string): Command => virsh(uri, ['vol-list', pool]);

/** Builds `virsh define FILE`. */
export const defineCommand = (uri: string, file: string): Command => virsh(uri, ['define', file]);

/** Builds `virsh undefine --nvram NAME` (--nvram also removes a UEFI guest's variable store). */
export const undefineCommand = (uri: string, name: string): Command => virsh(uri, ['undefine', '--nvram', name]);

/** Builds `virsh domcapabilities` with the given filters. */
export function domCapabilitiesCommand(uri: string, query: DomainCapabilitiesQuery = {}): Command {
  const args = ['domcapabilities'];
  if (query.virttype !== undefined) args.push('--virttype', query.virttype);
  if (query.arch !== undefined) args.push('--arch', query.arch);
  if (query.machine !== undefined) args.push('--machine', query.machine);
  return virsh(uri, args);
}

/** Parses virsh's `Key:   value` listings (pool-info, vol-info, dominfo) into a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([^:]+):\s*(.*)$/.exec(line.trimEnd());
    if (match?.[1] !== undefined && match[2] !== undefined) map.set(match[1].trim(), match[2]);
  }
  return map;
}

function required(map: Map<string, string>, key: string, what: string): string {
  const value = map.get(key);
  if (value === undefined) throw new Error(`unexpected virsh ${what} output: no "${key}:" line`);
  return value;
}

function bytes(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  // --bytes prints plain numbers for pools and "N bytes" for volumes.
  const match = /^(\d+)(?: bytes)?$/.exec(value.trim());
  if (match?.[1] === undefined) throw new Error(`unexpected virsh ${what} size "${value}" (was --bytes passed?)`);
  return Number(match[1]);
}

/** Parses `virsh pool-info --bytes`. */
export function parsePoolInfo(text: string): PoolInfo {
  const map = parseKeyValues(text);
  const info: PoolInfo = {
    name: required(map, 'Name', 'pool-info'),
    uuid: required(map, 'UUID', 'pool-info'),
    state: required(map, 'State', 'pool-info'),
    persistent: map.get('Persistent') === 'yes',
    autostart: map.get('Autostart') === 'yes',
  };
  const capacity = bytes(map.get('Capacity'), 'pool-info');
  const allocation = bytes(map.get('Allocation'), 'pool-info');
  const available = bytes(map.get('Available'), 'pool-info');
  if (capacity !== undefined) info.capacity = capacity;
  if (allocation !== undefined) info.allocation = allocation;
  if (available !== undefined) info.available = available;
  return info;
}

/** Parses `virsh vol-info --bytes`. */
export function parseVolInfo(text: string): VolumeInfo {
  const map = parseKeyValues(text);
  return {
    name: required(map, 'Name', 'vol-info'),
    type: required(map, 'Type', 'vol-info'),
    capacity: bytes(required(map, 'Capacity', 'vol-info'), 'vol-info') ?? 0,
    allocation: bytes(required(map, 'Allocation', 'vol-info'), 'vol-info') ?? 0,
  };
}

/** Parses `virsh dominfo`. */
export function parseDomInfo(text: string): DomainInfo {
  const map = parseKeyValues(text);
  return {
    name: required(map, 'Name', 'dominfo'),
    uuid: required(map, 'UUID', 'dominfo'),
    state: required(map, 'State', 'dominfo'),
    persistent: map.get('Persistent') === 'yes',
  };
}

/** Parses `virsh domstate`: one line such as "shut off" or "running". */
export function parseDomState(text: string): string {
  const state = text.trim().split('\n')[0]?.trim();
  if (!state) throw new Error('unexpected virsh domstate output: empty');
  return state;
}

/** Parses `virsh version`. */
export function parseVersion(text: string): LibvirtVersion {
  const map = parseKeyValues(text);
  const library = /^libvirt (\S+)$/.exec(map.get('Using library') ?? '')?.[1];
  if (library === undefined) throw new Error(`unexpected virsh version output: ${text.slice(0, 200)}`);
  const hypervisor = map.get('Running hypervisor');
  return hypervisor === undefined ? { library } : { library, hypervisor };
}

/**
 * Parses `virsh vol-list POOL`: a header, a dashed rule, then rows. Columns
 * are aligned to the header, so the name is everything left of the "Path"
 * column (names may contain spaces).
 */
export function parseVolList(text: string): VolumeEntry[] {
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  const pathColumn = header.indexOf('Path');
  if (!/^\s*Name\s+Path\s*$/.test(header) || !/^-+$/.test(lines[1]?.trim() ?? '')) {
    throw new Error(`unexpected virsh vol-list output: ${text.slice(0, 200)}`);
  }
  return lines
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => ({ name: line.slice(0, pathColumn).trim(), path: line.slice(pathColumn).trim() }));
}

/** An element as xml2js parses it with explicitArray: attributes in `$`, text in `_`, children as arrays. */
type XmlNode = Record<string, unknown>;

/**
 * Parses XML synchronously: xml2js calls back before parseString returns
 * unless its `async` option is set (documented default: false).
 */
function parseXml(xml: string, what: string): XmlNode {
  let parsed: unknown;
  let failure: unknown;
  parseString(xml, (error: unknown, value: unknown) => {
    failure = error;
    parsed = value;
  });
  if (failure !== null && failure !== undefined) {
    throw new Error(`unexpected virsh ${what} output: ${failure instanceof Error ? failure.message : inspect(failure)}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`unexpected virsh ${what} output: no XML`);
  return parsed as XmlNode;
}

/** A property of an xml2js node; undefined when `node` is not an object. */
function field(node: unknown, key: string): unknown {
  return typeof node === 'object' && node !== null ? (node as XmlNode)[key] : undefined;
}

function children(node: unknown, key: string): unknown[] {
  const value = field(node, key);
  return Array.isArray(value) ? value : [];
}

function child(node: unknown, key: string): unknown {
  return children(node, key)[0];
}

/** Text of an element: a plain string, or `_` when the element also has attributes. */
function text(node: unknown): string | undefined {
  const value = typeof node === 'string' ? node : field(node, '_');
  return typeof value === 'string' ? value.trim() : undefined;
}

function attribute(node: unknown, name: string): string | undefined {
  const value = field(field(node, '$'), name);
  return typeof value === 'string' ? value : undefined;
}

/** The `<value>` texts of the `<enum name=NAME>` child of `node`. */
function enumValues(node: unknown, name: string): string[] {
  const match = children(node, 'enum').find((e) => attribute(e, 'name') === name);
  return children(match, 'value').flatMap((v) => text(v) ?? []);
}

function sizeElement(node: unknown, key: string): number {
  const element = child(node, key);
  const unit = attribute(element, 'unit') ?? 'bytes';
  const value = text(element);
  if (unit !== 'bytes' || value === undefined || !/^\d+$/.test(value)) {
    throw new Error(`unexpected virsh pool-dumpxml <${key}>: ${JSON.stringify(element)}`);
  }
  return Number(value);
}

/** Parses `virsh pool-dumpxml`. */
export function parsePoolXml(xml: string): PoolDefinition {
  const pool = parseXml(xml, 'pool-dumpxml')['pool'];
  const type = attribute(pool, 'type');
  const name = text(child(pool, 'name'));
  if (type === undefined || name === undefined) throw new Error('unexpected virsh pool-dumpxml output: no <pool type> or <name>');
  const definition: PoolDefinition = {
    name,
    type,
    capacity: sizeElement(pool, 'capacity'),
    allocation: sizeElement(pool, 'allocation'),
    available: sizeElement(pool, 'available'),
  };
  const targetPath = text(child(child(pool, 'target'), 'path'));
  if (targetPath) definition.targetPath = targetPath;
  return definition;
}

/** Parses `virsh domcapabilities`. */
export function parseDomCapabilities(xml: string): DomainCapabilities {
  const caps = parseXml(xml, 'domcapabilities')['domainCapabilities'];
  const domainType = text(child(caps, 'domain'));
  if (domainType === undefined) throw new Error('unexpected virsh domcapabilities output: no <domain>');
  const os = child(caps, 'os');
  const loader = child(os, 'loader');
  const firmware = enumValues(os, 'firmware');
  const loaders = attribute(loader, 'supported') === 'no' ? [] : children(loader, 'value').flatMap((v) => text(v) ?? []);
  return {
    emulator: text(child(caps, 'path')) ?? '',
    domainType,
    machine: text(child(caps, 'machine')) ?? '',
    arch: text(child(caps, 'arch')) ?? '',
    firmware,
    loaders,
    efi: firmware.includes('efi') || loaders.length > 0,
    secureBoot: enumValues(loader, 'secure').includes('yes') && loaders.length > 0,
  };
}

/** True when a failed virsh call said the domain does not exist. */
export function isDomainNotFound(stderr: string): boolean {
  return /failed to get domain|Domain not found/.test(stderr);
}

/** True when a failed virsh call said the storage pool does not exist. */
export function isPoolNotFound(stderr: string): boolean {
  return /failed to get pool|Storage pool not found/.test(stderr);
}

/** True when a failed virsh call said the storage volume does not exist. */
export function isVolumeNotFound(stderr: string): boolean {
  return /failed to get vol|Storage volume not found/.test(stderr);
}

/** True when a failed virsh call said the network does not exist. */
export function isNetworkNotFound(stderr: string): boolean {
  return /failed to get network|Network not found/.test(stderr);
}

/** Runs a lookup; `undefined` when virsh says the object does not exist, CommandError otherwise. */
async function lookup(cmd: Command, notFound: (stderr: string) => boolean): Promise<string | undefined> {
  const result = await run(cmd, { allowFailure: true });
  if (result.exitCode === 0) return result.stdout;
  if (notFound(result.stderr)) return undefined;
  const detail = trimStderr(result.stderr);
  throw new CommandError(
    `${cmd.program} failed (exit code ${result.exitCode})${detail ? `: ${detail}` : ''}`,
    formatCommand(cmd),
    result.exitCode,
    detail,
  );
}

/** Connects to `uri` and returns libvirt's canonical URI; throws CommandError when libvirt is unreachable. */
export async function libvirtUri(uri: string): Promise<string> {
  const { stdout } = await run(uriCommand(uri));
  return stdout.trim();
}

/** The libvirt and hypervisor versions behind `uri`. */
export async function libvirtVersion(uri: string): Promise<LibvirtVersion> {
  const { stdout } = await run(versionCommand(uri));
  return parseVersion(stdout);
}

/** The state of domain `name` ("running", "shut off", ...), or undefined when no such domain exists. */
export async function domainState(uri: string, name: string): Promise<string | undefined> {
  const stdout = await lookup(domstateCommand(uri, name), isDomainNotFound);
  return stdout === undefined ? undefined : parseDomState(stdout);
}

/** Domain `name`, or undefined when it does not exist. */
export async function domainInfo(uri: string, name: string): Promise<DomainInfo | undefined> {
  const stdout = await lookup(dominfoCommand(uri, name), isDomainNotFound);
  return stdout === undefined ? undefined : parseDomInfo(stdout);
}

/** Builds `virsh net-info NAME`. */
export const netInfoCommand = (uri: string, name: string): Command => virsh(uri, ['net-info', name]);

/** Whether libvirt network `name` is active ("yes"/"no" as net-info says), or undefined when it does not exist. */
export async function networkActive(uri: string, name: string): Promise<boolean | undefined> {
  const stdout = await lookup(netInfoCommand(uri, name), isNetworkNotFound);
  return stdout === undefined ? undefined : parseKeyValues(stdout).get('Active') === 'yes';
}

/** Pool `pool` as pool-info shows it, or undefined when it does not exist. */
export async function poolInfo(uri: string, pool: string): Promise<PoolInfo | undefined> {
  const stdout = await lookup(poolInfoCommand(uri, pool), isPoolNotFound);
  return stdout === undefined ? undefined : parsePoolInfo(stdout);
}

/** Pool `pool` as its XML defines it, or undefined when it does not exist. */
export async function poolDefinition(uri: string, pool: string): Promise<PoolDefinition | undefined> {
  const stdout = await lookup(poolDumpXmlCommand(uri, pool), isPoolNotFound);
  return stdout === undefined ? undefined : parsePoolXml(stdout);
}

/** Rescans a pool so libvirt sees files written into it and its free space is current. */
export async function refreshPool(uri: string, pool: string): Promise<void> {
  await run(poolRefreshCommand(uri, pool));
}

/** Volume `volume` of `pool`, or undefined when libvirt knows no such volume. */
export async function volumeInfo(uri: string, pool: string, volume: string): Promise<VolumeInfo | undefined> {
  const stdout = await lookup(volInfoCommand(uri, pool, volume), isVolumeNotFound);
  return stdout === undefined ? undefined : parseVolInfo(stdout);
}

/** The volumes libvirt knows in an active pool (as of its last refresh). */
export async function listVolumes(uri: string, pool: string): Promise<VolumeEntry[]> {
  const { stdout } = await run(volListCommand(uri, pool));
  return parseVolList(stdout);
}

/** Defines (registers, does not start) the domain described by the XML file. */
export async function defineDomain(uri: string, file: string): Promise<void> {
  await run(defineCommand(uri, file));
}

/** Undefines domain `name` and its NVRAM file. */
export async function undefineDomain(uri: string, name: string): Promise<void> {
  await run(undefineCommand(uri, name));
}

/** What the host can run, as libvirt sees it. */
export async function domainCapabilities(uri: string, query: DomainCapabilitiesQuery = {}): Promise<DomainCapabilities> {
  const { stdout } = await run(domCapabilitiesCommand(uri, query));
  return parseDomCapabilities(stdout);
}
