/**
 * Fetches small remote files (a .vmx, a VMDK's first bytes) over HTTPS with
 * Node's https module: certificate verified by default (--ca-file adds a CA,
 * --insecure is the explicit opt-out), credentials sent as a header, never
 * shown.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { SourceError } from '../errors.js';
import type { HttpsLocation } from './url.js';

/** TLS and credential settings for one fetch. */
export interface FetchSettings {
  caFile?: string;
  insecure?: boolean;
  /** Password from -ip or the URL. */
  password?: string;
  timeoutMs?: number;
}

/** Fetches `loc` (its first `maxBytes` when given, by a Range request). Throws SourceError naming the fix. */
export async function httpsFetch(loc: HttpsLocation, settings: FetchSettings, maxBytes?: number): Promise<Buffer> {
  const url = new URL(loc.url);
  const ca = settings.caFile !== undefined ? await readFile(settings.caFile) : undefined;
  const headers: Record<string, string> = {};
  if (maxBytes !== undefined) headers['Range'] = `bytes=0-${maxBytes - 1}`;
  const password = settings.password ?? loc.password;
  if (loc.user !== undefined || password !== undefined) {
    headers['Authorization'] = `Basic ${Buffer.from(`${loc.user ?? ''}:${password ?? ''}`).toString('base64')}`;
  }
  const client = url.protocol === 'http:' ? http : https;
  return new Promise<Buffer>((resolvePromise, reject) => {
    const request = client.get(
      url,
      {
        headers,
        timeout: settings.timeoutMs ?? 30_000,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !settings.insecure, ...(ca ? { ca } : {}) } : {}),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status !== 200 && status !== 206) {
          response.resume();
          reject(
            new SourceError(`${loc.url} returned HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd() + `: ${httpHint(status)}.`),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
          // A server that ignores Range sends the whole file: stop reading once we have enough.
          if (maxBytes !== undefined && length >= maxBytes) {
            response.destroy();
            resolvePromise(Buffer.concat(chunks).subarray(0, maxBytes));
          }
        });
        response.on('end', () => resolvePromise(Buffer.concat(chunks)));
        response.on('error', (error) => reject(fetchError(loc, error)));
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within the timeout')));
    request.on('error', (error) => reject(fetchError(loc, error)));
  });
}

function httpHint(status: number): string {
  if (status === 401 || status === 403) return 'check the user and the password file (-ip)';
  if (status === 404) return 'check the URL';
  return 'check the server';
}

function fetchError(loc: HttpsLocation, error: Error): SourceError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code)) {
    return new SourceError(
      `The TLS certificate of ${loc.url} cannot be verified (${code}): pass the CA that signed it with --ca-file FILE (or --insecure to skip the check).`,
    );
  }
  return new SourceError(`Cannot fetch ${loc.url} (${code || error.message}): check that the server is up and the URL is right.`);
}
