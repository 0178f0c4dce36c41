/**
 * The project's vSphere simulator (test/fixtures/vcsim, built by
 * test/fixtures/build-vcsim.sh) as the warm-migration end-to-end test and
 * benchmark run it: a disk laid out as ESXi keeps it (descriptor + raw
 * -flat.vmdk, made from a fixture image with qemu-img), the simulator
 * started on loopback with its ready line parsed, a TCP proxy counting the
 * bytes the server sends, and the simulator's test controls (/v2v/status,
 * /v2v/write). test/fixtures/vcsim/CBT.md describes the simulator.
 *
 * In bench/ (not test/helpers/) because nothing outside test/ may import
 * test/; the tests import it from here.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';

/** A disk as ESXi keeps it: NAME.vmdk (descriptor) and NAME-flat.vmdk (raw, sparse). */
export interface FlatDisk {
  descriptor: string;
  flat: string;
  capacity: number;
}

/** The descriptor ESXi writes for a VMFS disk whose raw extent is `flat` (a file name beside it), `bytes` long. Pure. */
export function vmfsDescriptor(flat: string, bytes: number, adapterType: 'pvscsi' | 'lsilogic' = 'pvscsi'): string {
  return [
    '# Disk DescriptorFile',
    'version=1',
    'CID=fffffffe',
    'parentCID=ffffffff',
    'createType="vmfs"',
    '',
    '# Extent description',
    `RW ${bytes / 512} VMFS "${flat}"`,
    '',
    '# The Disk Data Base',
    '#DDB',
    `ddb.adapterType = "${adapterType}"`,
    'ddb.virtualHWVersion = "19"',
    '',
  ].join('\n');
}

/**
 * Writes `image` (any format qemu-img reads) as DIR/NAME.vmdk + DIR/NAME-flat.vmdk,
 * the flat file sparse; `capacity` grows it (a bigger disk holding the same data).
 */
export async function makeFlatDisk(image: string, dir: string, name: string, capacity?: number): Promise<FlatDisk> {
  await mkdir(dir, { recursive: true });
  const flat = join(dir, `${name}-flat.vmdk`);
  execFileSync('qemu-img', ['convert', '-O', 'raw', image, flat]);
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-f', 'raw', flat], { encoding: 'utf8' })) as {
    'virtual-size': number;
  };
  let size = info['virtual-size'];
  if (capacity !== undefined && capacity > size) {
    execFileSync('truncate', ['-s', String(capacity), flat]);
    size = capacity;
  }
  const descriptor = join(dir, `${name}.vmdk`);
  await writeFile(descriptor, vmfsDescriptor(`${name}-flat.vmdk`, size));
  return { descriptor, flat, capacity: size };
}

/** One disk in the simulator's status (CBT.md). */
export interface SimDisk {
  index: number;
  key: number;
  capacity: number;
  base: string;
  flat: string;
  changeId?: string;
  nbd?: string;
  layers: Array<{ file: string; path: string; presentBlocks?: number }>;
}

/** GET /v2v/status (CBT.md). */
export interface SimStatus {
  vm: string;
  powerState: string;
  tools: boolean;
  cbt: { active: boolean; pending: boolean };
  disks: SimDisk[];
  snapshots: Array<{ name: string; id: number; moref: string; changeIds: string[] }>;
  stats: Record<string, number>;
}

/** A running simulator. */
export interface Vcsim {
  child: ChildProcess;
  port: number;
  /** The VM's folder on the datastore (host path). */
  vmDir: string;
  /** The ready line's disks. */
  disks: SimDisk[];
  /** The simulator's stderr so far (its log: snapshot creations, removals). */
  log: () => string;
  status: () => Promise<SimStatus>;
  /** A guest write through /v2v/write. */
  write: (disk: number, offset: number, data: Buffer) => Promise<void>;
  stop: () => Promise<void>;
}

/** What to start the simulator with. */
export interface VcsimOptions {
  binary: string;
  user: string;
  passwordFile: string;
  name: string;
  mac: string;
  disk: FlatDisk;
  /** Its second disk: blank of this size, or the contents of a flat disk. */
  disk2?: { capacity: number; disk?: FlatDisk };
  /** Extra flags (-cbt, -power-on, -shutdown-delay 2s...). */
  flags?: string[];
  /** The simulator's TMPDIR (its datastores). */
  tmp: string;
  memoryMiB?: number;
}

const insecure = new https.Agent({ rejectUnauthorized: false, keepAlive: false });

function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, agent: insecure, headers: body ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts the simulator; resolves once it printed its ready line. Pass it COPIES of disks: it hard-links them and guest writes reach them. */
export async function startVcsim(o: VcsimOptions): Promise<Vcsim> {
  const args = [
    '-listen',
    '127.0.0.1:0',
    '-user',
    o.user,
    '-password-file',
    o.passwordFile,
    '-disk',
    o.disk.descriptor,
    '-capacity',
    String(o.disk.capacity),
    '-name',
    o.name,
    '-mac',
    o.mac,
    '-memory',
    String(o.memoryMiB ?? 1024),
    '-cpus',
    '2',
    '-cores',
    '2',
    ...(o.disk2 ? ['-disk2-capacity', String(o.disk2.capacity), ...(o.disk2.disk ? ['-disk2', o.disk2.disk.descriptor] : [])] : []),
    ...(o.flags ?? []),
  ];
  const child = spawn(o.binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: o.tmp } });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-200_000)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`vcsim exited (${code}): ${err}`)));
  });
  const ready = JSON.parse(line) as { url: string; vmDir: string; disks: SimDisk[] };
  const port = Number(new URL(ready.url).port);
  return {
    child,
    port,
    vmDir: ready.vmDir,
    disks: ready.disks,
    log: () => err,
    status: async () => JSON.parse((await request(port, 'GET', '/v2v/status')).text) as SimStatus,
    write: async (disk, offset, data) => {
      const r = await request(port, 'POST', '/v2v/write', JSON.stringify({ disk, offset, data: data.toString('base64') }));
      if (r.status !== 200) throw new Error(`/v2v/write: HTTP ${r.status} ${r.text}`);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A TCP proxy on loopback counting every byte the server sends (TLS, SOAP and data included: an upper bound of the data read). */
export interface CountingProxy {
  port: number;
  bytes: number;
  close: () => void;
}

/** Starts a counting proxy to 127.0.0.1:`target`. */
export async function startCountingProxy(target: number): Promise<CountingProxy> {
  const state = { bytes: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    upstream.on('data', (b: Buffer) => (state.bytes += b.length));
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get bytes() {
      return state.bytes;
    },
    set bytes(v: number) {
      state.bytes = v;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
