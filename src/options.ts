/**
 * Run options: parsed by cli.ts, normalized and checked here (parse →
 * normalize → rules), returned as data. Flags that do not apply to the
 * chosen mode are rejected by name.
 */
import { resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { OutputFormat } from './model.js';

/** Input modes implemented. */
export const INPUT_MODES = ['vmx'] as const;
/** Output modes implemented. */
export const OUTPUT_MODES = ['local'] as const;

/** Where the source comes from. */
export interface InputOptions {
  mode: (typeof INPUT_MODES)[number];
  /** The source metadata file (absolute). */
  path: string;
}

/** Where the converted guest goes. */
export interface OutputOptions {
  mode: (typeof OUTPUT_MODES)[number];
  /** Output storage: a directory for -o local. */
  storage: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  /** Rename the guest (-on). */
  name?: string;
}

/** Everything a run needs, normalized. */
export interface Options {
  input: InputOptions;
  output: OutputOptions;
  verbose: boolean;
  trace: boolean;
  quiet: boolean;
}

/** Raw values as the command line gave them (all optional: rules decide). */
export interface RawOptions {
  i?: string;
  o?: string;
  os?: string;
  of?: string;
  oa?: string;
  on?: string;
  positional: string[];
  verbose?: boolean;
  trace?: boolean;
  quiet?: boolean;
}

/** Guest names libvirt and file systems accept without surprises. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$/;

/** Applies the rules to raw options; throws UsageError with one sentence naming the fix. */
export function normalizeOptions(raw: RawOptions): Options {
  const inputMode = raw.i ?? 'vmx';
  if (!(INPUT_MODES as readonly string[]).includes(inputMode)) {
    throw new UsageError(`Unknown input mode "-i ${inputMode}": use one of ${INPUT_MODES.join(', ')}.`);
  }
  if (raw.positional.length === 0) {
    throw new UsageError(`No source given: pass the .vmx file, e.g. "v2v -i vmx guest.vmx -o local -os DIR".`);
  }
  if (raw.positional.length > 1) {
    throw new UsageError(`-i ${inputMode} takes one source file, but ${raw.positional.length} were given: ${raw.positional.join(' ')}.`);
  }
  const outputMode = raw.o;
  if (outputMode === undefined) {
    throw new UsageError(`No output mode given: add "-o local -os DIR".`);
  }
  if (!(OUTPUT_MODES as readonly string[]).includes(outputMode)) {
    throw new UsageError(`Unknown output mode "-o ${outputMode}": use one of ${OUTPUT_MODES.join(', ')}.`);
  }
  if (raw.os === undefined || raw.os === '') {
    throw new UsageError(`-o ${outputMode} needs an output directory: add "-os DIR".`);
  }
  const format = raw.of ?? 'raw';
  if (format !== 'raw' && format !== 'qcow2') {
    throw new UsageError(`Unsupported output format "-of ${format}": use raw or qcow2.`);
  }
  const allocation = raw.oa ?? 'sparse';
  if (allocation !== 'sparse' && allocation !== 'preallocated') {
    throw new UsageError(`Unknown allocation "-oa ${allocation}": use sparse or preallocated.`);
  }
  if (raw.on !== undefined && !NAME_RE.test(raw.on)) {
    throw new UsageError(`Invalid guest name "-on ${raw.on}": use letters, digits, '.', '_', '+' or '-', starting with a letter or digit.`);
  }
  if (raw.quiet && (raw.verbose || raw.trace)) {
    throw new UsageError(`-q cannot be combined with -v or -x: choose one.`);
  }
  const [source] = raw.positional as [string];
  return {
    input: { mode: inputMode as InputOptions['mode'], path: resolve(source) },
    output: {
      mode: outputMode as OutputOptions['mode'],
      storage: resolve(raw.os),
      format,
      allocation,
      ...(raw.on !== undefined ? { name: raw.on } : {}),
    },
    verbose: raw.verbose ?? false,
    trace: raw.trace ?? false,
    quiet: raw.quiet ?? false,
  };
}
