/**
 * Errors typed by who must act. Each kind maps to one exit code, in one place
 * (src/run/main.ts). Expected errors carry one sentence that names the problem and the
 * fix; they are printed without a stack.
 */
import { redactUrl } from './text/redact.js';

/** Exit codes, documented in docs/safety.md ("Exit codes") and --help. */
export const ExitCode = {
  ok: 0,
  /** An unexpected failure: a bug in v2v. */
  internal: 1,
  /** The command line is wrong. */
  usage: 2,
  /** A check before conversion failed: nothing was converted or written. */
  preflight: 3,
  /** Reading the source, inspecting or converting the guest failed. */
  conversion: 4,
  /** Copying the converted disks to the target failed. */
  copy: 5,
  /** `v2v batch`: one or more guests failed (each guest's own code is in the report). */
  batchFailed: 6,
  /** Converted and copied, but `--verify=boot` (or `v2v verify`) saw the guest fail to boot. */
  bootFailed: 7,
  /** Stopped by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;

/** Base class of every error the user is expected to act on; a URL's password in the message is replaced by "***". */
export abstract class V2vError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(redactUrl(message), options);
    this.name = new.target.name;
  }
}

/** The command line is invalid: fix the options. */
export class UsageError extends V2vError {
  readonly exitCode = ExitCode.usage;
}

/** The source metadata is unreadable or invalid: fix the input. */
export class SourceError extends V2vError {
  readonly exitCode = ExitCode.conversion;
}

/** A check before conversion failed: fix the environment or the target. */
export class PreflightError extends V2vError {
  readonly exitCode = ExitCode.preflight;
}

/** Inspection or conversion of the guest failed. */
export class ConversionError extends V2vError {
  readonly exitCode = ExitCode.conversion;
}

/** Copying to the target failed. */
export class CopyError extends V2vError {
  readonly exitCode = ExitCode.copy;
}

/** The converted guest did not boot (`--verify=boot`, `v2v verify`): its console log is named in the message. */
export class BootVerifyError extends V2vError {
  readonly exitCode = ExitCode.bootFailed;
}

/** The run was interrupted by a signal. */
export class InterruptedError extends V2vError {
  readonly exitCode = ExitCode.interrupted;
}

/** An external program failed; carries its argv, exit code and trimmed stderr. */
export class CommandError extends V2vError {
  readonly exitCode = ExitCode.conversion;
  constructor(
    message: string,
    readonly command: string,
    readonly code: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
