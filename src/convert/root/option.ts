/**
 * `--root`: which root of a multi-boot guest to convert. Parsed here, apart
 * from the choice itself (choice.ts, which drives the appliance), so
 * the command line and its completion load no driver.
 */
import { UsageError } from '../../errors.js';

/** How to pick the root of a multi-boot guest (`--root`). */
export type RootChoice = { kind: 'single' } | { kind: 'first' } | { kind: 'ask' } | { kind: 'device'; device: string };

/** The --root words (anything else must be a device). */
export const ROOT_WORDS = ['single', 'first', 'ask'] as const;

/** Parses `--root ask|single|first|/dev/X`; absent means `single`. */
export function parseRootChoice(value: string | undefined): RootChoice {
  if (value === undefined || value === 'single') return { kind: 'single' };
  if (value === 'first') return { kind: 'first' };
  if (value === 'ask') return { kind: 'ask' };
  if (/^\/dev\/\S+$/.test(value)) return { kind: 'device', device: value };
  throw new UsageError(`Invalid "--root ${value}": use single, first, ask, or a root device such as /dev/sda2.`);
}
