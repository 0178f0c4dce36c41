/**
 * Near misses of a word the user typed (an option, a mode, a manifest key),
 * and the rule every closed choice of the command line follows: ours, one
 * we refuse with the alternative, or a typo named with its nearest match.
 */
import { closest, distance } from 'fastest-levenshtein';
import { UsageError } from '../errors.js';

/** The nearest candidate if it is near enough to be a typo, else undefined. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, [...candidates]);
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return distance(word, best) <= limit ? best : undefined;
}

/** `did you mean "-o local"? ` for a near miss of `word` among `candidates`, else nothing. */
export function suggestion(word: string, candidates: readonly string[], flag: string): string {
  const near = didYouMean(word, candidates);
  return near !== undefined ? `did you mean "${flag} ${near}"? ` : '';
}

/** Whether `value` is one of `list` (and so of its type). */
export function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/**
 * Checks a mode against ours, the ones we refuse (each with its alternative)
 * and near misses; throws UsageError naming the fix.
 */
export function checkMode<M extends string>(
  kind: string,
  flag: string,
  mode: string,
  modes: readonly M[],
  refused: Readonly<Record<string, string>>,
): M {
  if (isOneOf(modes, mode)) return mode;
  const why = refused[mode];
  if (why !== undefined) throw new UsageError(`${flag} ${mode} is not supported by v2v: ${why}.`);
  throw new UsageError(`Unknown ${kind} mode "${flag} ${mode}": ${suggestion(mode, modes, flag)}use one of ${modes.join(', ')}.`);
}
