/**
 * Warnings about one source file are capped: the first few, then one line
 * counting the rest, so no file (a broken .vmx, a manifest of junk lines)
 * can flood the terminal, the log or the JSON events (docs/safety.md,
 * "Warnings are capped per file"). Every sink gets the same capped list.
 */

/** Warnings shown per file. */
export const WARNINGS_PER_FILE = 5;

/** Warnings shown per file with -v. */
export const WARNINGS_PER_FILE_VERBOSE = 200;

/**
 * The warnings about `file`: all of them when there are at most `cap` + 1,
 * else the first `cap` and one line "… and N more warnings about FILE".
 */
export function capWarnings(warnings: readonly string[], file: string, cap = WARNINGS_PER_FILE): string[] {
  if (warnings.length <= cap + 1) return [...warnings];
  const more = warnings.length - cap;
  const hint = cap < WARNINGS_PER_FILE_VERBOSE ? ` (-v shows up to ${WARNINGS_PER_FILE_VERBOSE})` : '';
  return [...warnings.slice(0, cap), `… and ${more} more warnings about ${file}${hint}`];
}

/**
 * Runs `parse` with a warning list of its own for `file`, then adds its
 * warnings, capped, to `into`: also when `parse` throws, so warnings that
 * may explain the error are still shown.
 */
export function withFileWarnings<T>(file: string, into: string[], cap: number | undefined, parse: (own: string[]) => T): T {
  const own: string[] = [];
  try {
    return parse(own);
  } finally {
    into.push(...capWarnings(own, file, cap));
  }
}
