/**
 * qemu-img: probe images, create the qcow2 overlays, measure the target and
 * run the final copy. Argv builders are pure; runners parse JSON output.
 */
import { run, type Command } from '../src/host/exec.js';
import { CommandError } from '../src/errors.js';

const QEMU_IMG = 'qemu-img';

/** What `qemu-img info` tells about one image. */
export interface ImageInfo {
  format: string;
  virtualSize: number;
  /** Bytes allocated on the host (absent for some protocols). */
  actualSize?: number;
  backingFilename?: string;
}

/** Builds `qemu-img info` for an image; `format` pins the driver (never probe a target). */
export function infoCommand(path: string, format?: string): Command {
  return { program: QEMU_IMG, args: ['info', '--output=json', ...(format ? ['-f', format] : []), path] };
}

/** Parses `qemu-img info --output=json`. */
export function parseInfo(json: string): ImageInfo {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const format = raw['format'];
  const virtualSize = raw['virtual-size'];
  if (typeof format !== 'string' || typeof virtualSize !== 'number') {
    throw new Error(`unexpected qemu-img info output: ${json.slice(0, 200)}`);
  }
  const info: ImageInfo = { format, virtualSize };
  if (typeof raw['actual-size'] === 'number') info.actualSize = raw['actual-size'];
  if (typeof raw['backing-filename'] === 'string') info.backingFilename = raw['backing-filename'];
  return info;
}

/** Probes an image. Throws CommandError when the file is not an image qemu can open. */
export async function imageInfo(path: string, format?: string): Promise<ImageInfo> {
  const { stdout } = await run(infoCommand(path, format));
  return parseInfo(stdout);
}

/**
 * Builds the command creating a qcow2 overlay whose backing file is the source
 * disk. The source is only ever opened read-only through it: every write lands
 * in the overlay.
 */
export function createOverlayCommand(overlay: string, backing: string, backingFormat: string): Command {
  return {
    program: QEMU_IMG,
    args: ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1,lazy_refcounts=on', '-F', backingFormat, '-b', backing, overlay],
  };
}

/** Creates a qcow2 overlay over `backing`. */
export async function createOverlay(overlay: string, backing: string, backingFormat: string): Promise<void> {
  await run(createOverlayCommand(overlay, backing, backingFormat));
}

/** Builds `qemu-img measure` for converting `image` to `outputFormat`. */
export function measureCommand(image: string, imageFormat: string, outputFormat: string): Command {
  return { program: QEMU_IMG, args: ['measure', '--output=json', '-f', imageFormat, '-O', outputFormat, image] };
}

/** Bytes a converted image needs: `required` for sparse, `fullyAllocated` for preallocated. */
export interface Measurement {
  required: number;
  fullyAllocated: number;
}

/** Parses `qemu-img measure --output=json`. */
export function parseMeasure(json: string): Measurement {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const required = raw['required'];
  const fullyAllocated = raw['fully-allocated'];
  if (typeof required !== 'number' || typeof fullyAllocated !== 'number') {
    throw new Error(`unexpected qemu-img measure output: ${json.slice(0, 200)}`);
  }
  return { required, fullyAllocated };
}

/** Measures how many bytes the target of a conversion will take. */
export async function measure(image: string, imageFormat: string, outputFormat: string): Promise<Measurement> {
  const { stdout } = await run(measureCommand(image, imageFormat, outputFormat));
  return parseMeasure(stdout);
}

/** Options of the final copy. */
export interface ConvertOptions {
  source: string;
  sourceFormat: string;
  target: string;
  targetFormat: 'raw' | 'qcow2';
  preallocation?: 'off' | 'metadata' | 'falloc' | 'full';
  /** Parallel coroutines (-m); qemu-img's default is 8. */
  coroutines?: number;
  /** Write into an existing target (-n): no creation options apply. */
  existing?: boolean;
  /** qcow2 with compressed clusters (-c), for --compressed. */
  compressed?: boolean;
}

/**
 * Builds the final `qemu-img convert`: -p for progress we parse, -W so
 * coroutines write out of order (faster; the target is not read meanwhile),
 * zero detection is qemu-img's default (-S 4k) so blank areas stay sparse.
 */
export function convertCommand(o: ConvertOptions): Command {
  const createOpts: string[] = [];
  if (!o.existing) {
    if (o.targetFormat === 'qcow2') createOpts.push('compat=1.1');
    if (o.preallocation && o.preallocation !== 'off') createOpts.push(`preallocation=${o.preallocation}`);
  }
  return {
    program: QEMU_IMG,
    args: [
      'convert',
      '-p',
      '-W',
      '-m',
      String(o.coroutines ?? 8),
      ...(o.existing ? ['-n'] : []),
      ...(o.compressed ? ['-c'] : []),
      '-f',
      o.sourceFormat,
      '-O',
      o.targetFormat,
      ...(createOpts.length > 0 ? ['-o', createOpts.join(',')] : []),
      o.source,
      o.target,
    ],
  };
}

/**
 * Extracts the last percentage from `qemu-img convert -p` output, which is
 * `    (12.50/100%)\r` records when stdout is not a TTY.
 */
export function parseConvertProgress(chunk: string): number | undefined {
  const matches = [...chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
  const last = matches.at(-1);
  return last ? Number(last[1]) : undefined;
}

/** Runs the copy, reporting percent done. */
export async function convert(o: ConvertOptions, onProgress: (percent: number) => void): Promise<void> {
  try {
    await run(convertCommand(o), {
      kind: 'copy',
      onStdout: (chunk) => {
        const percent = parseConvertProgress(chunk);
        if (percent !== undefined) onProgress(percent);
      },
    });
  } catch (error) {
    if (error instanceof CommandError) {
      throw new CommandError(`Copying to ${o.target} failed: ${error.stderr || error.message}`, error.command, error.code, error.stderr, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Builds `qemu-img commit` of an overlay into its backing file (a warm
 * migration's pre-copy): -p for progress, -d because the overlay is not
 * needed empty afterwards (it stays the converted image over the disk).
 * Zero clusters (fstrim's discards) become holes in a raw backing file
 * (measured: docs/host-tools.md).
 */
export function commitCommand(overlay: string): Command {
  return { program: QEMU_IMG, args: ['commit', '-p', '-d', '-f', 'qcow2', overlay] };
}

/** Runs the commit, reporting percent done. */
export async function commit(overlay: string, onProgress: (percent: number) => void): Promise<void> {
  await run(commitCommand(overlay), {
    kind: 'copy',
    onStdout: (chunk) => {
      const percent = parseConvertProgress(chunk);
      if (percent !== undefined) onProgress(percent);
    },
  });
}

/** Builds `qemu-img rebase -u`: points an overlay at a new path of the same backing data (nothing is read or copied). */
export function rebaseUnsafeCommand(overlay: string, backing: string, backingFormat: string): Command {
  return { program: QEMU_IMG, args: ['rebase', '-u', '-f', 'qcow2', '-b', backing, '-F', backingFormat, overlay] };
}

/** Points an overlay at its backing's new path. */
export async function rebaseUnsafe(overlay: string, backing: string, backingFormat: string): Promise<void> {
  await run(rebaseUnsafeCommand(overlay, backing, backingFormat));
}

/**
 * Builds `qemu-img compare` of two images' guest-visible content (not their
 * files: a qcow2 and a raw image of the same disk compare equal; unallocated
 * areas read as zeros). Both formats are pinned: never probe a target.
 */
export function compareCommand(a: string, aFormat: string, b: string, bFormat: string): Command {
  return { program: QEMU_IMG, args: ['compare', '-f', aFormat, '-F', bFormat, a, b] };
}

/** Result of {@link compareImages}: identical, or the first difference qemu-img reports. */
export type Comparison = { identical: true } | { identical: false; difference: string };

/**
 * Compares two images' content. `qemu-img compare` exits 0 when identical, 1
 * when they differ (stdout names the first differing offset); anything else
 * is an error (CommandError).
 */
export async function compareImages(a: string, aFormat: string, b: string, bFormat: string): Promise<Comparison> {
  const result = await run(compareCommand(a, aFormat, b, bFormat), { kind: 'copy', allowFailure: true });
  if (result.exitCode === 0) return { identical: true };
  if (result.exitCode === 1) return { identical: false, difference: result.stdout.trim() || 'content differs' };
  throw new CommandError(
    `qemu-img compare failed (exit code ${result.exitCode})${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`,
    `qemu-img compare ${a} ${b}`,
    result.exitCode,
    result.stderr.trim(),
  );
}
