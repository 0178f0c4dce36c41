/**
 * Copies areas of a remote disk into its pre-copy with bounded memory: the
 * areas are cut into Range requests of at most {@link REQUEST_BYTES}, read by
 * {@link PARALLEL} workers, each streaming its response through one buffer of
 * {@link BUFFER_BYTES} into positional writes. A request that fails or ends
 * short is resumed where it stopped, a few times, before the pass fails.
 * --bandwidth/--bandwidth-file throttle the reads here as nbdkit's rate
 * filter throttles a cold copy.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bandwidth } from '../remote/options.js';
import { splitAreas, type DiskArea } from './areas.js';
import type { PrecopyFile } from './precopy-file.js';

/** One Range request's size at most: big enough to stream, small enough to retry. */
export const REQUEST_BYTES = 32 * 2 ** 20;
/** Requests in flight. */
export const PARALLEL = 4;
/** Each worker's buffer: the unit of zero detection and of writes. */
export const BUFFER_BYTES = 2 ** 20;
/** Attempts per request before the pass fails, the first retry after 2 × RETRY_DELAY_MS, doubling (0.5 + 1 + 2 + 4 s). */
const ATTEMPTS = 5;
const RETRY_DELAY_MS = 250;

/** How {@link copyAreas} reads. */
export interface CopyOptions {
  throttle?: Throttle;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  /** The retry delay's base (tests shorten it). */
  retryDelayMs?: number;
  /**
   * Called, one call at a time, when everything below an offset is copied
   * and at least {@link CHECKPOINT_BYTES} or {@link CHECKPOINT_MS} passed
   * since the last call: a full copy records it to resume from there.
   */
  onCheckpoint?: (doneBelow: number) => Promise<void>;
  checkpointBytes?: number;
}

/** How often a copy reports a checkpoint: after 256 MiB copied, or a minute, since the last. */
export const CHECKPOINT_BYTES = 256 * 2 ** 20;
export const CHECKPOINT_MS = 60_000;

/** Writing the pre-copy failed (the local storage, not the network): never retried. */
export class PrecopyWriteError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`writing ${path} failed: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
    this.name = 'PrecopyWriteError';
  }
}

/** Where the bytes come from: a Range read of [start, end) as a stream of chunks. */
export type RangeReader = (start: number, end: number, signal?: AbortSignal) => Promise<AsyncIterable<Buffer>>;

/** Progress of one disk's copy. */
export interface CopyProgress {
  bytesRead: number;
  bytesWritten: number;
}

/** Parses a rate as nbdkit's rate filter does: bits per second with an optional k/M/G (powers of 1024). */
export function parseRate(text: string): number | undefined {
  const m = /^\s*([1-9][0-9]*)([kKmMgG]?)\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * scale;
}

/**
 * A token bucket shared by the workers: each chunk read waits until the
 * rate allows it. The rate file, when given, is re-read every second (an
 * empty or invalid one leaves the rate as it was).
 */
export class Throttle {
  private nextFree = 0;
  private checked = 0;
  private rate: number | undefined;

  constructor(private readonly bandwidth: Bandwidth) {
    this.rate = bandwidth.rate !== undefined ? parseRate(bandwidth.rate) : undefined;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    if (this.bandwidth.rateFile !== undefined && now - this.checked >= 1000) {
      this.checked = now;
      const fromFile = parseRate(await readFile(this.bandwidth.rateFile, 'utf8').catch(() => ''));
      if (fromFile !== undefined) this.rate = fromFile;
    }
    if (this.rate === undefined) return;
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (bytes * 8 * 1000) / this.rate;
    if (start > now) await sleep(start - now, undefined, signal ? { signal } : undefined);
  }
}

/**
 * Copies `areas` (sorted) from `read` into `file`; `onProgress` is called
 * after each buffer. Throws the last error of a request that failed
 * {@link ATTEMPTS} times, or the signal's reason.
 */
export async function copyAreas(
  areas: readonly DiskArea[],
  read: RangeReader,
  file: PrecopyFile,
  options: CopyOptions = {},
): Promise<CopyProgress> {
  const queue = splitAreas(areas, REQUEST_BYTES);
  const progress: CopyProgress = { bytesRead: 0, bytesWritten: 0 };
  let next = 0;
  let failed = false;
  // Checkpoints: requests complete out of order; everything below the first incomplete one is copied.
  const done = new Array<boolean>(queue.length).fill(false);
  let low = 0;
  let lastCheckpoint = 0;
  let sinceCheckpoint = 0; // bytes of requests completed since
  let lastTime = Date.now();
  let checkpoints = Promise.resolve();
  const completed = async (index: number): Promise<void> => {
    done[index] = true;
    sinceCheckpoint += queue[index]!.length;
    while (low < queue.length && done[low]) low++;
    if (options.onCheckpoint === undefined || low >= queue.length) return;
    const below = queue[low]!.start;
    if (sinceCheckpoint < (options.checkpointBytes ?? CHECKPOINT_BYTES) && Date.now() - lastTime < CHECKPOINT_MS) return;
    if (below <= lastCheckpoint) return;
    lastCheckpoint = below;
    sinceCheckpoint = 0;
    lastTime = Date.now();
    const onCheckpoint = options.onCheckpoint;
    checkpoints = checkpoints.then(() => onCheckpoint(below));
    await checkpoints;
  };
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    while (!failed && next < queue.length) {
      const index = next++;
      try {
        await copyRequest(queue[index]!, read, file, buffer, progress, options);
        await completed(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  progress.bytesWritten = file.written;
  return progress;
}

async function copyRequest(
  request: DiskArea,
  read: RangeReader,
  file: PrecopyFile,
  buffer: Buffer,
  progress: CopyProgress,
  options: CopyOptions,
): Promise<void> {
  const end = request.start + request.length;
  /** `at`: the next byte to write; `filled`: bytes waiting in the buffer (the disk's bytes from `at`). */
  const pos = { at: request.start, filled: 0 };
  const flush = async (): Promise<void> => {
    if (pos.filled === 0) return;
    try {
      await file.write(buffer.subarray(0, pos.filled), pos.at);
    } catch (error) {
      throw new PrecopyWriteError(file.path, error);
    }
    pos.at += pos.filled;
    progress.bytesRead += pos.filled;
    progress.bytesWritten = file.written;
    pos.filled = 0;
    options.onProgress?.(progress);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const stream = await read(pos.at, end, options.signal);
      for await (const chunk of stream) {
        for (let taken = 0; taken < chunk.length;) {
          const n = Math.min(chunk.length - taken, buffer.length - pos.filled, end - pos.at - pos.filled);
          if (n <= 0) throw new Error(`the server sent more than the ${request.length} bytes asked for at ${request.start}`);
          chunk.copy(buffer, pos.filled, taken, taken + n);
          pos.filled += n;
          taken += n;
          if (pos.filled === buffer.length) await flush();
        }
        await options.throttle?.take(chunk.length, options.signal);
      }
      await flush();
      if (pos.at !== end) throw new Error(`the answer ended ${end - pos.at} bytes short at ${pos.at}`);
      return;
    } catch (error) {
      if (error instanceof PrecopyWriteError) throw error; // local storage: no retry helps
      // What arrived is kept: the retry asks from the first byte not written.
      if (!options.signal?.aborted) await flush();
      pos.filled = 0;
      if (options.signal?.aborted || attempt >= ATTEMPTS) throw error;
      await sleep(
        (options.retryDelayMs ?? RETRY_DELAY_MS) * 2 ** attempt,
        undefined,
        options.signal ? { signal: options.signal } : undefined,
      );
    }
  }
}
