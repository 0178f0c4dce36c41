/**
 * The pure parts of a warm migration (src/warm/): area arithmetic and the
 * QueryChangedDiskAreas loop, what a pass copies, the state file (parse,
 * identity, reconciliation, atomic write, lock), the options, the sparse
 * pre-copy file and the bounded-memory copy of areas (a fake Range reader).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskChangeInfo } from '../../drivers/vsphere-snapshots.js';
import {
  appendAreas,
  areasFrom,
  changeIdUuid,
  checkAnswer,
  collectAreas,
  planCopy,
  splitAreas,
  totalBytes,
  unionAreas,
} from '../../src/warm/areas.js';
import { BUFFER_BYTES, copyAreas, parseRate, REQUEST_BYTES, type RangeReader } from '../../src/warm/copy-areas.js';
import { formatDuration, normalizeWarmOptions, parseCutover, parseDuration } from '../../src/warm/options.js';
import { PrecopyFile, zeroRuns } from '../../src/warm/precopy-file.js';
import {
  fileStem,
  identityMismatch,
  newState,
  parseState,
  readState,
  reconcileDisks,
  snapshotName,
  stateFiles,
  takeLock,
  writeState,
  type WarmState,
} from '../../src/warm/state.js';
import { describePassProgress } from '../../stages/precopy.js';

const MiB = 2 ** 20;
const CID = '52 0a 1b 2c 3d 4e 5f 60-71 82 93 a4 b5 c6 d7 e8';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'v2v-warm-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('change ids and what a pass copies', () => {
  it('splits a change id into its CBT UUID; anything else has none', () => {
    expect(changeIdUuid(`${CID}/4`)).toBe(CID);
    expect(changeIdUuid('*')).toBeUndefined();
    expect(changeIdUuid(`${CID}/x`)).toBeUndefined();
    expect(changeIdUuid('/4')).toBeUndefined();
  });
  it('copies what changed since the recorded id; everything when there is none, the UUID changed, or the disk is new or resized', () => {
    expect(planCopy(`${CID}/3`, `${CID}/5`)).toEqual({ kind: 'changed', since: `${CID}/3` });
    expect(planCopy(undefined, `${CID}/1`)).toEqual({ kind: 'full', reason: 'first' });
    expect(planCopy(`${CID}/3`, `52 ff ff ff ff ff ff ff-ff ff ff ff ff ff ff ff/1`)).toEqual({ kind: 'full', reason: 'cbt-reset' });
    expect(planCopy(`${CID}/3`, `${CID}/5`, 'resized')).toEqual({ kind: 'full', reason: 'resized' });
    expect(planCopy('garbage', `${CID}/5`)).toEqual({ kind: 'full', reason: 'cbt-reset' });
  });
  it('resumes a full copy stopped after a checkpoint, unless the CBT UUID changed or the disk changed shape', () => {
    const partial = { changeId: `${CID}/2`, upTo: 512 * MiB };
    expect(planCopy(undefined, `${CID}/3`, undefined, partial)).toEqual({ kind: 'resume', since: `${CID}/2`, upTo: 512 * MiB });
    expect(planCopy(undefined, `52 ff ff ff ff ff ff ff-ff ff ff ff ff ff ff ff/1`, undefined, partial)).toEqual({
      kind: 'full',
      reason: 'first',
    });
    expect(planCopy(undefined, `${CID}/3`, 'resized', partial)).toEqual({ kind: 'full', reason: 'resized' });
    expect(planCopy(undefined, `${CID}/3`, undefined, { ...partial, upTo: 0 })).toEqual({ kind: 'full', reason: 'first' });
  });
  it('joins what changed with what is left of a full copy: union and the part from an offset', () => {
    const a = [
      { start: 0, length: 10 },
      { start: 100, length: 10 },
    ];
    expect(areasFrom(a, 5)).toEqual([
      { start: 5, length: 5 },
      { start: 100, length: 10 },
    ]);
    expect(areasFrom(a, 10)).toEqual([{ start: 100, length: 10 }]);
    expect(areasFrom(a, 200)).toEqual([]);
    expect(
      unionAreas(a, [
        { start: 5, length: 20 },
        { start: 110, length: 1 },
        { start: 300, length: 1 },
      ]),
    ).toEqual([
      { start: 0, length: 25 },
      { start: 100, length: 11 },
      { start: 300, length: 1 },
    ]);
    expect(unionAreas([], [])).toEqual([]);
  });
});

describe('QueryChangedDiskAreas answers', () => {
  const answer = (startOffset: number, length: number, areas: Array<[number, number]>): DiskChangeInfo => ({
    startOffset,
    length,
    areas: areas.map(([start, len]) => ({ start, length: len })),
  });
  it('returns where the next call starts, clamped to the disk (the last answer may cover past it)', () => {
    expect(checkAnswer(answer(0, 1024 * MiB, [[MiB, MiB]]), 0, 4096 * MiB)).toBe(1024 * MiB);
    expect(checkAnswer(answer(3072 * MiB, 1024 * MiB, []), 3072 * MiB, 3500 * MiB)).toBe(3500 * MiB);
  });
  it('refuses answers that would lose or invent data', () => {
    expect(() => checkAnswer(answer(MiB, 10, []), 0, 100 * MiB)).toThrow(/starts at 1048576/);
    expect(() => checkAnswer(answer(0, 0, []), 0, 100 * MiB)).toThrow(/covers 0 bytes/);
    expect(() =>
      checkAnswer(
        answer(0, 10 * MiB, [
          [5 * MiB, MiB],
          [MiB, MiB],
        ]),
        0,
        100 * MiB,
      ),
    ).toThrow(/out of order/);
    expect(() => checkAnswer(answer(0, 10 * MiB, [[9 * MiB, 2 * MiB]]), 0, 100 * MiB)).toThrow(/outside \[0, 10485760\)/);
    expect(() => checkAnswer(answer(0, 200 * MiB, [[99 * MiB, 2 * MiB]]), 0, 100 * MiB)).toThrow(/outside/);
  });
  it('loops on the answers to the end of the disk, joining areas split by an answer boundary', async () => {
    // A server answering at most 2 areas per call, as the simulator's -cbt-query-max-areas cuts.
    const all: Array<[number, number]> = [
      [0, MiB],
      [5 * MiB, MiB],
      [6 * MiB, 2 * MiB],
      [100 * MiB, 64 * 1024],
    ];
    const asked: number[] = [];
    const areas = await collectAreas(128 * MiB, async (start) => {
      asked.push(start);
      const rest = all.filter(([s]) => s >= start).slice(0, 2);
      const end = rest.length === 2 ? rest[1]![0] + rest[1]![1] : 128 * MiB;
      return answer(start, end - start, rest);
    });
    expect(asked).toEqual([0, 6 * MiB, 100 * MiB + 64 * 1024]);
    expect(areas).toEqual([
      { start: 0, length: MiB },
      { start: 5 * MiB, length: 3 * MiB },
      { start: 100 * MiB, length: 64 * 1024 },
    ]);
    expect(totalBytes(areas)).toBe(4 * MiB + 64 * 1024);
    expect(appendAreas([{ start: 0, length: 10 }], [{ start: 20, length: 1 }])).toHaveLength(2);
  });
  it('cuts areas into Range requests of bounded size, in order', () => {
    expect(
      splitAreas(
        [
          { start: 10, length: 25 },
          { start: 100, length: 5 },
        ],
        10,
      ),
    ).toEqual([
      { start: 10, length: 10 },
      { start: 20, length: 10 },
      { start: 30, length: 5 },
      { start: 100, length: 5 },
    ]);
  });
});

describe('the state file', () => {
  const vm = {
    name: 'web01',
    moref: 'vm-42',
    instanceUuid: '5012aaaa-0000-0000-0000-000000000001',
    uuid: '4212bbbb-0000-0000-0000-000000000001',
  };
  const state = (): WarmState => {
    const s = { ...newState(vm, 'vcenter:443', new Date('2026-12-01T00:00:00Z')), id: '0a1b2c3d' };
    s.disks = [{ key: 2000, fileName: '[ds] web01/web01.vmdk', capacity: 10 * MiB, precopy: 'web01.warm-2000.raw', changeId: `${CID}/3` }];
    s.passes = [
      { number: 1, started: 'a', finished: 'b', seconds: 1, bytesChanged: 1, bytesRead: 1, bytesWritten: 1, full: [2000], final: false },
    ];
    return s;
  };
  it('names the files after the VM (last inventory path component, safe characters) and the snapshot after the id', () => {
    expect(fileStem('Folder/web 01')).toBe('web_01');
    expect(fileStem('../..')).toBe('_');
    expect(stateFiles('/p', 'web01')).toMatchObject({ state: '/p/web01.warm.json', lock: '/p/web01.warm.lock' });
    expect(stateFiles('/p', 'web01').precopy(2001)).toBe('web01.warm-2001.raw');
    expect(snapshotName('0a1b2c3d')).toBe('v2v-warm-0a1b2c3d');
    expect(newState(vm, 'h').id).toMatch(/^[0-9a-f]{8}$/);
  });
  it('parses what it wrote and refuses anything else, saying why', () => {
    expect(parseState(JSON.stringify(state()))).toEqual(state());
    expect(parseState('{')).toMatch(/^not JSON/);
    expect(parseState('{"version":2}')).toBe('version 2, this v2v reads version 1');
    expect(parseState(JSON.stringify({ ...state(), id: '../x' }))).toBe('no valid "id"');
    const bad = state();
    bad.disks[0]!.precopy = '../../etc/passwd';
    expect(parseState(JSON.stringify(bad))).toMatch(/^a malformed disk entry/);
    const resumable = state();
    resumable.disks[0]!.partial = { changeId: `${CID}/2`, upTo: MiB };
    expect(parseState(JSON.stringify(resumable))).toEqual(resumable);
    resumable.disks[0]!.partial = { changeId: `${CID}/2`, upTo: -1 };
    expect(parseState(JSON.stringify(resumable))).toMatch(/^a malformed disk entry/);
  });
  it('belongs to one VM: the same instanceUuid (else moref and uuid)', () => {
    expect(identityMismatch(state(), { ...vm, moref: 'vm-99' }, 'f')).toBeUndefined(); // re-registered: same instance
    expect(
      identityMismatch(state(), { ...vm, name: 'db01', instanceUuid: '5012cccc-0000-0000-0000-000000000009' }, '/p/web01.warm.json'),
    ).toBe(
      '/p/web01.warm.json is the warm migration of another VM ("web01", vm-42, instance 5012aaaa-0000-0000-0000-000000000001), not of "db01" (vm-42, instance 5012cccc-0000-0000-0000-000000000009): give this VM its own --precopy-dir.',
    );
  });
  it('says what changed in the disks and copies those in full: added, removed, resized, moved', () => {
    const s = state();
    s.disks.push({ key: 2001, fileName: '[ds] web01/web01_1.vmdk', capacity: MiB, precopy: 'web01.warm-2001.raw', changeId: `${CID}/3` });
    const r = reconcileDisks(
      s,
      [
        { key: 2000, fileName: '[ds] web01/web01.vmdk', capacity: 20 * MiB },
        { key: 2002, fileName: '[ds2] web01/web01_2.vmdk', capacity: MiB },
      ],
      (key) => `web01.warm-${key}.raw`,
    );
    expect([...r.forced]).toEqual([
      [2000, 'resized'],
      [2002, 'new-disk'],
    ]);
    expect(r.removed.map((d) => d.key)).toEqual([2001]);
    expect(r.disks.map((d) => [d.key, d.capacity, d.changeId])).toEqual([
      [2000, 20 * MiB, `${CID}/3`],
      [2002, MiB, undefined],
    ]);
    expect(r.notes).toEqual([
      'the disk [ds] web01/web01.vmdk was resized from 10485760 to 20971520 bytes since the last pass: copying it in full',
      'the VM has a new disk [ds2] web01/web01_2.vmdk (key 2002): copying it in full',
      'the disk [ds] web01/web01_1.vmdk (key 2001) was removed from the VM: its pre-copy web01.warm-2001.raw is deleted',
    ]);
    const moved = reconcileDisks(state(), [{ key: 2000, fileName: '[ds2] web01/web01.vmdk', capacity: 10 * MiB }], (k) => `${k}`);
    expect([...moved.forced]).toEqual([[2000, 'moved']]);
    // Before any pass, new disks are simply the first copy: nothing to say.
    expect(reconcileDisks(newState(vm, 'h'), [{ key: 1, fileName: 'f', capacity: 1 }], (k) => `${k}`).notes).toEqual([]);
  });
  it('is written atomically (no partial file left) and read back; a foreign file is refused with the fix', async () => {
    const path = join(dir, 'web01.warm.json');
    expect(await readState(path)).toBeUndefined();
    await writeState(path, state(), new Date('2026-12-02T00:00:00Z'));
    expect(await readState(path)).toEqual({ ...state(), updated: '2026-12-02T00:00:00.000Z' });
    await expect(stat(`${path}.partial`)).rejects.toThrow(/ENOENT/);
    await writeFile(path, 'not json');
    await expect(readState(path)).rejects.toThrow(
      /is not a state file v2v can use \(not JSON.*\): move it away to start the warm migration over/,
    );
  });
  it('keeps two runs apart with a lock file, taking over the lock of a dead run', async () => {
    const lock = join(dir, 'web01.warm.lock');
    const release = await takeLock(lock, 'web01');
    expect((await readFile(lock, 'utf8')).trim()).toBe(String(process.pid));
    await release();
    // A live v2v (node) process holds it: our parent, the vitest runner.
    await writeFile(lock, `${process.ppid}\n`);
    await expect(takeLock(lock, 'web01')).rejects.toThrow(
      new RegExp(`^Another v2v \\(pid ${process.ppid}\\) is running the warm migration of "web01" .*kill -USR1 ${process.ppid}`),
    );
    // A dead one: taken over.
    await writeFile(lock, '2147483646\n');
    const again = await takeLock(lock, 'web01');
    expect((await readFile(lock, 'utf8')).trim()).toBe(String(process.pid));
    await again();
  });
});

describe('warm options', () => {
  const now = new Date(2026, 11, 1, 22, 30, 0); // local time
  const ctx = { vsphere: true, printSource: false, outputMode: 'local', outputStorage: '/out', now };
  it('parses durations and prints them back', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('1x')).toBeUndefined();
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(90_000)).toBe('90s');
  });
  it('parses --cutover: now, never, file:, the next HH:MM, a date and time; refuses the past and the malformed', () => {
    expect(parseCutover('now', now)).toEqual({ kind: 'now' });
    expect(parseCutover('never', now)).toEqual({ kind: 'never' });
    expect(parseCutover('file:/tmp/go', now)).toEqual({ kind: 'file', path: '/tmp/go' });
    expect(parseCutover('23:15', now)).toEqual({ kind: 'time', at: new Date(2026, 11, 1, 23, 15).getTime() });
    expect(parseCutover('02:00', now)).toEqual({ kind: 'time', at: new Date(2026, 11, 2, 2, 0).getTime() });
    expect(parseCutover('2026-12-24T03:00', now)).toEqual({ kind: 'time', at: new Date(2026, 11, 24, 3, 0).getTime() });
    expect(() => parseCutover('2026-11-24T03:00', now)).toThrow('--cutover 2026-11-24T03:00 is in the past: give a later time, or "now".');
    expect(() => parseCutover('tomorrow', now)).toThrow(/Invalid "--cutover tomorrow": give now, never, file:PATH/);
    expect(() => parseCutover('file:', now)).toThrow(/needs a path/);
  });
  it('takes the defaults: cut over now, the -os directory, 10 minutes to shut down', () => {
    expect(normalizeWarmOptions({ warm: true }, ctx)).toEqual({
      precopyDir: '/out',
      interval: 3_600_000,
      cutover: { kind: 'now' },
      shutdownTimeout: 600_000,
      powerOffFallback: false,
      enableCbt: false,
      quiesce: false,
    });
    // --cutover never alone: one pass and stop (no interval).
    expect(normalizeWarmOptions({ warm: true, cutover: 'never' }, ctx)).not.toHaveProperty('interval');
    expect(normalizeWarmOptions({ warm: true, cutover: 'never', precopyInterval: '30m' }, ctx)?.interval).toBe(1_800_000);
    expect(normalizeWarmOptions({}, ctx)).toBeUndefined();
  });
  it('refuses flags without --warm, --warm without vSphere, and what does not fit, naming the fix', () => {
    expect(() => normalizeWarmOptions({ cutover: 'now', enableCbt: true }, ctx)).toThrow(
      '--cutover, --enable-cbt only apply to a warm migration: add --warm (with a vSphere source, -ic), or remove them.',
    );
    expect(() => normalizeWarmOptions({ warm: true }, { ...ctx, vsphere: false })).toThrow(
      /^--warm copies a running VM from vCenter or ESXi/,
    );
    expect(() => normalizeWarmOptions({ warm: true }, { ...ctx, printSource: true })).toThrow(/--print-source/);
    expect(() => normalizeWarmOptions({ warm: true, precopyInterval: '1h' }, ctx)).toThrow(/does nothing with --cutover now/);
    expect(() => normalizeWarmOptions({ warm: true, cutover: 'never', precopyInterval: '5' }, ctx)).toThrow(
      /Invalid "--precopy-interval 5"/,
    );
    expect(() => normalizeWarmOptions({ warm: true }, { ...ctx, outputMode: 'null', outputStorage: '' })).toThrow(
      "A warm migration with -o null needs --precopy-dir DIR: a directory with room for the VM's disks (the pre-copy), kept until the cut-over.",
    );
  });
});

describe('the pre-copy file', () => {
  const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 251 || 1));
  it('finds runs of zero blocks', () => {
    const buf = Buffer.concat([Buffer.alloc(128 * 1024), pattern(64 * 1024, 1), Buffer.alloc(10)]);
    expect(zeroRuns(buf)).toEqual([
      { at: 0, length: 128 * 1024, zero: true },
      { at: 128 * 1024, length: 64 * 1024, zero: false },
      { at: 192 * 1024, length: 10, zero: true },
    ]);
  });
  it('leaves zero blocks as holes in a fresh file, and later writes zeros only over data', async () => {
    const path = join(dir, 'disk.raw');
    const fresh = await PrecopyFile.open(path, 16 * MiB, true);
    await fresh.write(Buffer.concat([pattern(MiB, 7), Buffer.alloc(4 * MiB)]), 0);
    await fresh.sync();
    await fresh.close();
    expect(fresh.written).toBe(MiB);
    expect((await stat(path)).blocks * 512).toBeLessThanOrEqual(MiB + 64 * 1024);
    // Next pass: zeros over the first 512 KiB of data, and over blocks that are holes.
    const next = await PrecopyFile.open(path, 16 * MiB, false);
    await next.write(Buffer.alloc(512 * 1024), 0);
    await next.write(Buffer.alloc(2 * MiB), 8 * MiB);
    await next.close();
    expect(next.written).toBe(512 * 1024);
    const content = await readFile(path);
    expect(content.subarray(0, 512 * 1024).equals(Buffer.alloc(512 * 1024))).toBe(true);
    expect(content.subarray(512 * 1024, MiB).equals(pattern(MiB, 7).subarray(512 * 1024))).toBe(true);
    expect((await stat(path)).blocks * 512).toBeLessThanOrEqual(MiB + 64 * 1024);
    // A file of another size needs a full copy.
    await expect(PrecopyFile.open(path, 32 * MiB, false)).rejects.toThrow(/needs a full copy/);
  });
});

describe('copying areas with bounded memory', () => {
  /** The remote disk: byte i is a function of i; the reader sends it in 16 KiB chunks, and can fail. */
  const byte = (i: number): number => i % 251;
  const PATTERN = Buffer.from(Array.from({ length: 16 * 1024 + 251 }, (_, k) => k % 251));
  const reader =
    (failures: Map<number, number>, log: Array<[number, number]>): RangeReader =>
    async (start, end) => {
      log.push([start, end]);
      const cut = failures.get(start); // this request ends short once
      failures.delete(start);
      return (async function* () {
        for (let at = start; at < end; at += 16 * 1024) {
          if (cut !== undefined && at >= start + cut) throw new Error('connection reset');
          const n = Math.min(16 * 1024, end - at);
          yield PATTERN.subarray(at % 251, (at % 251) + n);
        }
      })();
    };
  it('copies every area at its offset, resuming a request that broke after the bytes it got', async () => {
    const path = join(dir, 'copy.raw');
    const file = await PrecopyFile.open(path, 80 * MiB, true);
    const areas = [
      { start: 64 * 1024, length: 3 * MiB },
      { start: 40 * MiB, length: REQUEST_BYTES + 3 * 64 * 1024 },
    ];
    const log: Array<[number, number]> = [];
    const seen: number[] = [];
    const done = await copyAreas(areas, reader(new Map([[40 * MiB, 2 * BUFFER_BYTES + 4096]]), log), file, {
      onProgress: (p) => seen.push(p.bytesRead),
      retryDelayMs: 1,
    });
    await file.close();
    expect(done.bytesRead).toBe(totalBytes(areas));
    expect(seen.at(-1)).toBe(totalBytes(areas));
    // The broken request was asked again from the first byte it had not received (2 buffers and one 16 KiB chunk came).
    expect(log).toContainEqual([40 * MiB + 2 * BUFFER_BYTES + 16 * 1024, 40 * MiB + REQUEST_BYTES]);
    const content = await readFile(path);
    for (const a of areas) {
      for (const at of [a.start, a.start + 12345, a.start + a.length - 1]) expect(content[at]).toBe(byte(at));
    }
    expect(content[64 * 1024 - 1]).toBe(0);
    expect(content[40 * MiB - 1]).toBe(0);
  });
  it('reports checkpoints: everything below an offset copied, one at a time, in order', async () => {
    const file = await PrecopyFile.open(join(dir, 'checkpoints.raw'), 200 * MiB, true);
    const areas = [{ start: 0, length: 6 * REQUEST_BYTES }];
    const seen: number[] = [];
    let busy = false;
    await copyAreas(areas, reader(new Map(), []), file, {
      checkpointBytes: REQUEST_BYTES,
      onCheckpoint: async (below) => {
        expect(busy).toBe(false);
        busy = true;
        await new Promise((r) => setTimeout(r, 5));
        seen.push(below);
        busy = false;
      },
    });
    await file.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    for (const below of seen) {
      expect(below % REQUEST_BYTES).toBe(0);
      expect(below).toBeLessThan(6 * REQUEST_BYTES);
    }
  });
  it('gives up after a few attempts with the last error', async () => {
    const file = await PrecopyFile.open(join(dir, 'fail.raw'), MiB, true);
    const failing: RangeReader = () => Promise.reject(new Error('HTTP 503'));
    let calls = 0;
    const counted: RangeReader = (start, end, signal) => {
      calls++;
      return failing(start, end, signal);
    };
    await expect(copyAreas([{ start: 0, length: MiB }], counted, file, { retryDelayMs: 1 })).rejects.toThrow('HTTP 503');
    expect(calls).toBe(5);
    await file.close();
  });
  it('reads rates as nbdkit does', () => {
    expect(parseRate('10M')).toBe(10 * 2 ** 20);
    expect(parseRate('500k')).toBe(500 * 1024);
    expect(parseRate('0')).toBeUndefined();
    expect(parseRate('')).toBeUndefined();
  });
});

describe('pass progress lines', () => {
  it('say the pass, the disk, bytes read of the total, the rate and bytes written', () => {
    expect(
      describePassProgress(
        { pass: 2, step: 'copy', disk: 1, disks: 2, bytesRead: 120 * MiB, bytesTotal: 300 * MiB, bytesWritten: 100 * MiB },
        2000,
      ),
    ).toBe('pass 2: disk 1/2: 120.0 MiB of 300.0 MiB read (60.0 MiB/s), 100.0 MiB written');
    expect(describePassProgress({ pass: 1, step: 'snapshot', bytesRead: 0, bytesTotal: 0, bytesWritten: 0 }, 0)).toBe(
      'pass 1: creating the snapshot',
    );
  });
});
