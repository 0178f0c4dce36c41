/**
 * Puts the virtio drivers into an initramfs-tools image without running the
 * guest's update-initramfs (35 s and more of emulated CPU under TCG), and
 * without running any guest binary: the image is read on the host, its main
 * archive gets the guest's own virtio modules for that kernel (with their
 * dependencies from the guest's modules.dep), the guest's full `modules.*`
 * indexes, `/conf/modules` lines that make init load them, and the network
 * name pins pin.ts wrote (where initramfs-tools' udev hook would
 * have copied them); it is recompressed with the same compression and
 * written back.
 *
 * The guest's own indexes are correct in the image because they already
 * list every module of that kernel at its real path: a module the image
 * lacks is only "not found", as it would be anyway. That holds only when the
 * image's modules are the guest's files at the same paths, which is checked;
 * any image this code does not understand is left to update-initramfs (the
 * caller), with the reason in the log.
 */
import { copyFile, mkdir, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join, posix } from 'node:path';
import { compressFile, decompressFile, isHandled } from '../../../../drivers/compressor.js';
import type { Guestfs } from '../../../../drivers/guestfish.js';
import { parseHash } from '../../../../drivers/guestfish.js';
import { imageSegments, listArchives, newcArchiveTail, readEntry, type CpioEntry, type NewEntry } from './cpio.js';

/** The file v2v adds to every image it extends: says so, and makes a second conversion notice it. */
export const MARKER = 'conf/v2v-virtio-drivers';

/** A module of modules.dep: its path relative to /lib/modules/VERSION and what it needs. */
export interface DepEntry {
  path: string;
  deps: string[];
}

/** A module's name as modprobe knows it, from its path (dashes are underscores). */
export function moduleName(path: string): string {
  return posix
    .basename(path)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

/** Parses modules.dep (`path: dep dep...`) into entries by module name. */
export function parseModulesDep(text: string): Map<string, DepEntry> {
  const map = new Map<string, DepEntry>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const path = line.slice(0, at).trim();
    map.set(moduleName(path), {
      path,
      deps: line
        .slice(at + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
    });
  }
  return map;
}

/** Names of modules built into the kernel (modules.builtin lists their would-be paths). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map(moduleName),
  );
}

/**
 * The module files `names` need (each with its dependencies, dependencies
 * included), relative paths, dependencies first; built-in ones need no file.
 * A name neither in modules.dep nor built in is returned in `unknown`.
 */
export function moduleClosure(dep: Map<string, DepEntry>, builtin: Set<string>, names: string[]): { paths: string[]; unknown: string[] } {
  const paths: string[] = [];
  const unknown: string[] = [];
  const byPath = new Map([...dep.values()].map((e) => [e.path, e]));
  const visit = (entry: DepEntry): void => {
    if (paths.includes(entry.path)) return;
    for (const d of entry.deps) {
      const sub = byPath.get(d);
      if (sub) visit(sub);
    }
    paths.push(entry.path);
  };
  for (const name of names) {
    const entry = dep.get(name);
    if (entry) visit(entry);
    else if (!builtin.has(name)) unknown.push(name);
  }
  return { paths, unknown };
}

/** Appends to /conf/modules the names it does not list yet. */
export function withConfModules(text: string, names: string[]): string {
  const listed = new Set(
    text
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0])
      .filter(Boolean),
  );
  const add = names.filter((n) => !listed.has(n));
  if (add.length === 0) return text;
  return `${text === '' || text.endsWith('\n') ? text : `${text}\n`}${add.join('\n')}\n`;
}

/** Where the image's udev finds .link files and rules, as initramfs-tools' udev hook lays them out ((usr/)lib/...). */
export function pinDirectoryInImage(names: Set<string>, guestFile: string): string | undefined {
  const candidates = guestFile.endsWith('.link')
    ? ['lib/systemd/network', 'usr/lib/systemd/network']
    : ['lib/udev/rules.d', 'usr/lib/udev/rules.d'];
  return candidates.find((dir) => names.has(dir));
}

/** What happened to one image. */
export type ExtendOutcome =
  { status: 'extended'; modules: string[]; pins: string[] } | { status: 'current' } | { status: 'not-understood'; reason: string };

/** What the caller passes. */
export interface ExtendRequest {
  g: Guestfs;
  /** Host directory for the work files (removed afterwards). */
  tmpdir: string;
  version: string;
  /** Guest path of the image. */
  image: string;
  /** Modules init must load (virtio drivers). */
  modules: string[];
  /** Guest files naming NICs (.link files, udev rules) the image's udev must see. */
  pinFiles: string[];
}

/** Extends one initramfs-tools image (see the file comment); never throws for an image it does not understand. */
export async function extendInitramfsTools(req: ExtendRequest): Promise<ExtendOutcome> {
  const work = await mkdtemp(join(req.tmpdir, 'initramfs-'));
  try {
    return await extendIn(work, req);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function extendIn(work: string, { g, version, image, modules, pinFiles }: ExtendRequest): Promise<ExtendOutcome> {
  const notUnderstood = (reason: string): ExtendOutcome => ({ status: 'not-understood', reason });
  const moddir = `/lib/modules/${version}`;
  if (!(await g.exists(`${moddir}/modules.dep`))) return notUnderstood(`the guest has no ${moddir}/modules.dep`);

  const img = join(work, 'image');
  await g.call('download', image, img);
  let segments;
  try {
    segments = await imageSegments(img);
  } catch (error) {
    return notUnderstood(`not a cpio image (${(error as Error).message})`);
  }
  const main = segments.at(-1);
  if (!main || main.kind !== 'compressed') return notUnderstood('no compressed main archive');
  if (main.compression === 'unknown') return notUnderstood(`neither a cpio archive nor a known compression at byte ${main.start}`);
  if (!isHandled(main.compression))
    return notUnderstood(`its main archive is compressed with ${main.compression}, which v2v does not recompress`);
  const mainZ = join(work, 'main.z');
  const mainCpio = join(work, 'main.cpio');
  await pipeline(createReadStream(img, { start: main.start }), createWriteStream(mainZ));
  let listing;
  try {
    await decompressFile(main.compression, mainZ, mainCpio);
    listing = await listArchives(mainCpio);
  } catch (error) {
    return notUnderstood(`its main archive does not unpack (${(error as Error).message})`);
  }
  const byName = new Map(listing.entries.map((e) => [e.name, e]));
  const names = new Set(byName.keys());
  for (const needed of ['init', 'scripts/functions', 'conf/initramfs.conf']) {
    if (!names.has(needed)) return notUnderstood(`no ${needed}: not an initramfs-tools image`);
  }
  const prefix = ['usr/lib', 'lib'].map((p) => `${p}/modules/${version}`).find((p) => names.has(`${p}/modules.dep`));
  if (!prefix) return notUnderstood(`no lib/modules/${version}/modules.dep in it`);

  // Every index of that kernel, in one call: modules.dep and modules.builtin are read here, all go into the image.
  const indexes = (await g.ls(moddir)).filter((n) => /^modules\./.test(n));
  const indexDir = join(work, 'indexes');
  await mkdir(indexDir);
  await g.downloadMany(indexes.map((n) => [`${moddir}/${n}`, join(indexDir, n)]));
  const dep = parseModulesDep(await readFile(join(indexDir, 'modules.dep'), 'utf8'));
  const builtin = indexes.includes('modules.builtin')
    ? parseModulesBuiltin(await readFile(join(indexDir, 'modules.builtin'), 'utf8'))
    : new Set<string>();
  // The guest's indexes fit the image only if its modules are the guest's, at the same paths.
  const known = new Set([...dep.values()].map((e) => e.path));
  const imageModules = listing.entries
    .filter((e) => e.name.startsWith(`${prefix}/`) && /\.ko(\.\w+)?$/.test(e.name))
    .map((e) => e.name.slice(prefix.length + 1));
  const stranger = imageModules.find((p) => !known.has(p));
  if (stranger) return notUnderstood(`its module ${stranger} is not in the guest's modules.dep`);
  const { paths, unknown } = moduleClosure(dep, builtin, modules);
  if (unknown.length > 0) return notUnderstood(`kernel ${version} has no ${unknown.join(', ')}`);
  const missing = paths.filter((p) => !names.has(`${prefix}/${p}`));
  const compressed = missing.find((p) => !p.endsWith('.ko'));
  if (compressed) {
    const ext = posix.extname(compressed);
    // Only a modprobe that already loads such modules from this image is known to read them.
    if (!imageModules.some((p) => p.endsWith(ext))) return notUnderstood(`its modules are not ${ext}-compressed like ${compressed}`);
  }
  const wanted = modules.filter((m) => !builtin.has(m));
  const confModules = byName.get('conf/modules');
  const confBefore = confModules ? (await readEntry(mainCpio, confModules)).toString('utf8') : '';
  // /conf/modules only changes with modules added: udev already loads the ones an image has by modalias.
  const confAfter = missing.length > 0 ? withConfModules(confBefore, wanted) : confBefore;

  const pins: Array<{ name: string; data: Buffer }> = [];
  for (const file of pinFiles) {
    const dir = pinDirectoryInImage(names, file);
    if (!dir) continue; // the image has no udev that reads it: initramfs-tools would not copy it either
    const data = Buffer.from(await g.readFile(file), 'utf8');
    const name = `${dir}/${posix.basename(file)}`;
    const current = byName.get(name);
    if (!current || !(await readEntry(mainCpio, current)).equals(data)) pins.push({ name, data });
  }
  if (missing.length === 0 && confAfter === confBefore && pins.length === 0) return { status: 'current' };
  if (names.has(MARKER)) return notUnderstood('v2v already extended it once');

  const add: NewEntry[] = [];
  const addDirs = (path: string): void => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!names.has(dir) && !add.some((e) => e.name === dir)) add.push({ name: dir, perm: 0o755 });
    }
  };
  const local = (i: number): string => join(work, `module-${i}`);
  await g.downloadMany(missing.map((p, i) => [`${moddir}/${p}`, local(i)]));
  for (const [i, p] of missing.entries()) {
    addDirs(`${prefix}/${p}`);
    add.push({ name: `${prefix}/${p}`, perm: 0o644, data: await readFile(local(i)) });
  }
  if (missing.length > 0) {
    for (const index of indexes) add.push({ name: `${prefix}/${index}`, perm: 0o644, data: await readFile(join(indexDir, index)) });
  }
  if (confAfter !== confBefore) add.push({ name: 'conf/modules', perm: 0o644, data: Buffer.from(confAfter, 'utf8') });
  for (const pin of pins) {
    addDirs(pin.name);
    add.push({ name: pin.name, perm: 0o644, data: pin.data });
  }
  const added = missing.map(moduleName);
  add.push({
    name: MARKER,
    perm: 0o644,
    data: Buffer.from(
      `# Added by v2v (conversion to KVM), not by update-initramfs:\n${[...added, ...pins.map((p) => p.name)].join('\n')}\n`,
      'utf8',
    ),
  });

  // The main archive up to its trailer, our members and a new trailer, recompressed the same way.
  const newCpio = join(work, 'main.new.cpio');
  await copyPrefix(mainCpio, newCpio, listing.trailerOffset);
  const tail = newcArchiveTail(add, { dotSlash: listing.dotSlash, mtime: Math.floor(Date.now() / 1000), firstIno: 0x7f000000 });
  await appendTo(newCpio, tail);
  const newZ = join(work, 'main.new.z');
  await compressFile(main.compression, newCpio, newZ);
  const newImage = join(work, 'image.new');
  await copyPrefix(img, newImage, main.start);
  await pipeline(createReadStream(newZ), createWriteStream(newImage, { flags: 'a' }));

  // Checked, not assumed: the image as written unpacks and holds what was added.
  const check = join(work, 'check.cpio');
  const checkZ = join(work, 'check.z');
  const checkSegments = await imageSegments(newImage);
  const last = checkSegments.at(-1);
  if (last?.kind !== 'compressed') throw new Error('the extended image lost its compressed archive');
  await pipeline(createReadStream(newImage, { start: last.start }), createWriteStream(checkZ));
  await decompressFile(main.compression, checkZ, check);
  const checkNames = new Set((await listArchives(check)).entries.map((e: CpioEntry) => e.name));
  const lost = add.find((e) => !checkNames.has(e.name));
  if (lost) throw new Error(`the extended image lacks ${lost.name}`);

  const growth = (await stat(newImage)).size - (await stat(img)).size;
  const fs = parseHash(await g.call('statvfs', posix.dirname(image)));
  const free = Number(fs.find(([k]) => k === 'bavail')?.[1] ?? 0) * Number(fs.find(([k]) => k === 'bsize')?.[1] ?? 0);
  if (growth > 0 && free < growth + 1024 * 1024) return notUnderstood(`${posix.dirname(image)} has ${free} bytes free, ${growth} needed`);
  await g.call('upload', newImage, image);
  return { status: 'extended', modules: added, pins: pins.map((p) => p.name) };
}

/** Copies the first `length` bytes of a host file into a new one. */
async function copyPrefix(from: string, to: string, length: number): Promise<void> {
  if (length === 0) {
    await (await open(to, 'w')).close();
    return;
  }
  if ((await stat(from)).size === length) {
    await copyFile(from, to);
    return;
  }
  await pipeline(createReadStream(from, { start: 0, end: length - 1 }), createWriteStream(to));
}

/** Appends bytes to a host file. */
async function appendTo(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'a');
  try {
    await fh.write(data);
  } finally {
    await fh.close();
  }
}
