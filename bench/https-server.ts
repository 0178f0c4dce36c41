/**
 * A small HTTPS file server on 127.0.0.1 for the fetch benchmark and the
 * remote-source tests: serves files from one directory with Range support,
 * counts every body byte it sends, and can drop the next N requests (a
 * transient network fault) or be stopped and restarted on the same port.
 *
 * In bench/ (not test/helpers/) because nothing outside test/ may import
 * test/; the tests import it from here.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';

/** Paths of a self-signed certificate's PEM files, in their temporary directory. */
export interface SelfSignedCert {
  dir: string;
  cert: string;
  key: string;
}

/** What startHttpsServer serves, and how. */
export interface HttpsServerOptions {
  /** The directory served. */
  root: string;
  /** PEM files (makeSelfSignedCert). */
  cert: string;
  key: string;
  /** Default: any free port. */
  port?: number;
  /** Basic authentication wanted on every request. */
  auth?: { user: string; password: string };
}

/** What the server counted. */
export interface HttpsServerState {
  bytesServed: number;
  requests: number;
  dropNext: number;
  dropped: number;
  /** Every byte range served (GET), in order. */
  ranges: Array<{ path: string; start: number; end: number }>;
}

/** A running server. */
export interface HttpsServer {
  state: HttpsServerState;
  readonly port: number;
  url(rel: string): string;
  drop(n: number): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** Generates a self-signed certificate for IP 127.0.0.1 (and localhost). */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'v2v-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
}

/** Starts the server. */
export async function startHttpsServer(options: HttpsServerOptions): Promise<HttpsServer> {
  const tls = { cert: await readFile(options.cert), key: await readFile(options.key) };
  const state: HttpsServerState = {
    bytesServed: 0,
    requests: 0,
    dropNext: 0,
    dropped: 0,
    ranges: [],
  };
  const sockets = new Set<Socket>();
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    state.requests++;
    if (state.dropNext > 0) {
      state.dropNext--;
      state.dropped++;
      req.socket.destroy(); // the connection drops mid-request: a transient network fault
      return;
    }
    if (options.auth) {
      const want = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="v2v"' }).end();
        return;
      }
    }
    const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname));
    const file = join(options.root, rel);
    if (!file.startsWith(options.root)) return void res.writeHead(403).end();
    let size: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      return void res.writeHead(404).end();
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) return void res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    }
    const headers: OutgoingHttpHeaders = {
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
    };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    state.ranges.push({ path: rel, start, end });
    const stream = createReadStream(file, { start, end });
    stream.on('data', (chunk) => {
      state.bytesServed += chunk.length;
    });
    stream.pipe(res);
  };
  let server: https.Server | undefined;
  let port = options.port ?? 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const listening = https.createServer(tls, (req, res) => {
        handler(req, res).catch(() => res.destroy());
      });
      server = listening;
      listening.on('connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    state,
    get port() {
      return port;
    },
    url(rel: string) {
      return `https://127.0.0.1:${port}/${rel.replace(/^\//, '')}`;
    },
    /** Drops the next n requests by closing their connections. */
    drop(n: number) {
      state.dropNext = n;
    },
    /** Stops listening and kills every open connection. */
    async stop() {
      await new Promise<void>((resolve) => {
        if (server === undefined) return resolve();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    /** Listens again on the same port. */
    async restart() {
      await listen();
    },
  };
}
