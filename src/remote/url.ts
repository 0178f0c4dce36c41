/**
 * Remote source locations (`ssh://user@host[:port]/path`, `https://host/path`)
 * parsed into typed values, and redaction of credentials in any text we show.
 */
import { posix } from 'node:path';
import { SourceError, UsageError } from '../errors.js';
import { redactUrl } from '../text/redact.js';

/** A file reached over SSH. */
export interface SshLocation {
  transport: 'ssh';
  user?: string;
  host: string;
  port?: number;
  /** Absolute remote path (decoded). */
  path: string;
}

/** A file reached over HTTPS (or plain HTTP). */
export interface HttpsLocation {
  transport: 'https';
  /** The URL without userinfo: safe to show and to pass to child processes. */
  url: string;
  /** User from the URL's userinfo, if any. */
  user?: string;
  /** Password from the URL's userinfo: never shown, never put in argv. */
  password?: string;
}

/** Where a remote source file lives. */
export type RemoteLocation = SshLocation | HttpsLocation;

/** True when the argument names a remote source rather than a local path. */
export function isRemoteSource(arg: string): boolean {
  return /^(ssh|https?):\/\//i.test(arg);
}

/** Parses a remote source URL; throws UsageError naming the fix when it is malformed. */
export function parseRemoteSource(arg: string): RemoteLocation {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new UsageError(`"${redactUrl(arg)}" is not a valid URL: use ssh://user@host[:port]/path/guest.vmx or https://host/path/file.`);
  }
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (url.protocol === 'ssh:') {
    if (password !== undefined) {
      throw new UsageError(
        `Do not put the SSH password in the URL ${redactUrl(arg)}: write it to a file readable only by you and pass "-ip FILE".`,
      );
    }
    if (!url.hostname) throw new UsageError(`The SSH URL ${redactUrl(arg)} names no host: use ssh://user@host[:port]/path/guest.vmx.`);
    const path = decodeURIComponent(url.pathname);
    if (path === '' || path === '/')
      throw new UsageError(`The SSH URL ${redactUrl(arg)} names no file: use ssh://user@host[:port]/path/guest.vmx.`);
    return {
      transport: 'ssh',
      ...(user !== undefined ? { user } : {}),
      host: stripBrackets(url.hostname),
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
    };
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    url.username = '';
    url.password = '';
    return {
      transport: 'https',
      url: url.toString(),
      ...(user !== undefined ? { user } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  }
  throw new UsageError(`Unsupported URL scheme "${url.protocol}" in ${redactUrl(arg)}: use ssh:// or https://.`);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The location as a URL safe to show: never a password. */
export function displayLocation(loc: RemoteLocation): string {
  if (loc.transport === 'https') return loc.user !== undefined ? loc.url.replace('://', `://${encodeURIComponent(loc.user)}@`) : loc.url;
  const host = loc.host.includes(':') ? `[${loc.host}]` : loc.host;
  return `ssh://${loc.user !== undefined ? `${encodeURIComponent(loc.user)}@` : ''}${host}${loc.port !== undefined ? `:${loc.port}` : ''}${encodeURI(loc.path)}`;
}

/**
 * A file a .vmx or a VMDK descriptor at `loc` names (a disk, an extent):
 * resolved as the host that wrote the name would resolve it.
 * - SSH: a path of the remote host; relative names (`../` too) against the
 *   naming file's directory, absolute ones as they are.
 * - An ESXi/vCenter datastore URL (`/folder/PATH?dcPath=DC&dsName=DS`, see
 *   {@link datastoreUrlParts}): the name resolves as on the ESXi host, whose
 *   datastores are `/vmfs/volumes/NAME/`; a disk on another datastore
 *   (`/vmfs/volumes/ds2/web01/web01_1.vmdk`, or `../../ds2/...`) becomes that
 *   datastore's URL (`/folder/web01/web01_1.vmdk?dcPath=DC&dsName=ds2`).
 * - Any other HTTPS URL: the name resolves against the URL's path, on the
 *   same server.
 * Throws SourceError for a name a datastore URL cannot reach.
 */
export function siblingLocation(loc: RemoteLocation, name: string): RemoteLocation {
  if (loc.transport === 'ssh') {
    return { ...loc, path: posix.resolve(posix.dirname(loc.path), name) };
  }
  const url = new URL(loc.url);
  const datastore = datastoreUrlParts(url);
  if (datastore !== undefined) {
    const esxPath = posix.resolve(posix.dirname(`${VMFS_VOLUMES}/${datastore.dsName}/${datastore.path}`), name);
    return { ...loc, url: datastoreFileUrl(url, esxPath, name, loc) };
  }
  url.pathname = posix.resolve(posix.dirname(decodeURIComponent(url.pathname)), name);
  return { ...loc, url: url.toString() };
}

/** Where ESXi mounts its datastores, each as a directory named after the datastore (and its UUID). */
export const VMFS_VOLUMES = '/vmfs/volumes';

/**
 * A VMFS or NFS datastore UUID as ESXi names its mount directory
 * (`64f0c2a1-5e7d3b10-9a2c-0050569a1b2c`, NFS `2f5a1d3e-8b4c6a70`): the
 * datastore's own name is a symlink to it. The /folder URLs take a datastore
 * name (dsName), never a UUID.
 */
const DATASTORE_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{12})?$/i;

/**
 * The parts of an ESXi/vCenter datastore file URL
 * (`https://HOST/folder/PATH?dcPath=DC&dsName=DS`, the "Datastore Access
 * (/folder)" syntax of the vSphere Web Services SDK programming guide): the
 * path inside the datastore (decoded), the datastore name and the
 * datacenter (absent: ESXi's default, ha-datacenter). Undefined for any
 * other URL.
 */
export function datastoreUrlParts(url: URL): { path: string; dsName: string; dcPath?: string } | undefined {
  const dsName = url.searchParams.get('dsName');
  if (dsName === null || dsName === '' || !url.pathname.startsWith('/folder/')) return undefined;
  const dcPath = url.searchParams.get('dcPath');
  return {
    path: decodeURIComponent(url.pathname.slice('/folder/'.length)),
    dsName,
    ...(dcPath !== null ? { dcPath } : {}),
  };
}

/** The /folder URL of the ESXi path `esxPath` (/vmfs/volumes/DS/PATH), on the server and datacenter of `base`. */
function datastoreFileUrl(base: URL, esxPath: string, name: string, loc: RemoteLocation): string {
  const m = /^\/vmfs\/volumes\/([^/]+)\/(.+)$/.exec(esxPath);
  if (m === null) {
    throw new SourceError(
      `${displayLocation(loc)} names "${name}", which resolves to ${esxPath}, not a file on a datastore (${VMFS_VOLUMES}/DATASTORE/...): a datastore URL reads only datastore files; fix the name, or read the VM over SSH (-it ssh).`,
    );
  }
  const dsName = m[1]!;
  const path = m[2]!;
  if (DATASTORE_UUID_RE.test(dsName)) {
    throw new SourceError(
      `${displayLocation(loc)} names "${name}" on the datastore with UUID ${dsName}, which a datastore URL cannot address (it takes datastore names): convert the VM with -ic (vSphere names its datastores) or over SSH (-it ssh ssh://root@ESXI${VMFS_VOLUMES}/...), or name the datastore in the .vmx.`,
    );
  }
  // As datastoreUrl (src/input/vsphere/inventory.ts) writes them: each part encoded alone, spaces as %20.
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  const dcPath = base.searchParams.get('dcPath');
  const query = `${dcPath !== null ? `dcPath=${encodeURIComponent(dcPath)}&` : ''}dsName=${encodeURIComponent(dsName)}`;
  return `${base.origin}/folder/${encodedPath}?${query}`;
}

/**
 * The remote path (decoded) of a location, as a .vmx or descriptor would name
 * it: for a datastore URL the ESXi host's path (/vmfs/volumes/DS/PATH), so
 * names relative to it resolve as on the host ({@link siblingLocation}).
 */
export function locationPath(loc: RemoteLocation): string {
  if (loc.transport === 'ssh') return loc.path;
  const url = new URL(loc.url);
  const datastore = datastoreUrlParts(url);
  return datastore !== undefined ? `${VMFS_VOLUMES}/${datastore.dsName}/${datastore.path}` : decodeURIComponent(url.pathname);
}

export { redactUrl } from '../text/redact.js';
