/**
 * Remote source locations (`ssh://user@host[:port]/path`, `https://host/path`)
 * parsed into typed values, and redaction of credentials in any text we show.
 */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';
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

/** A sibling file of `loc` (a disk named by a .vmx, an extent named by a descriptor): relative names resolve against its directory. */
export function siblingLocation(loc: RemoteLocation, name: string): RemoteLocation {
  if (loc.transport === 'ssh') {
    return { ...loc, path: posix.resolve(posix.dirname(loc.path), name) };
  }
  const url = new URL(loc.url);
  url.pathname = posix.resolve(posix.dirname(decodeURIComponent(url.pathname)), name);
  return { ...loc, url: url.toString() };
}

/** The remote path (decoded) of a location, as a .vmx or descriptor would name it. */
export function locationPath(loc: RemoteLocation): string {
  return loc.transport === 'ssh' ? loc.path : decodeURIComponent(new URL(loc.url).pathname);
}

export { redactUrl } from '../text/redact.js';
