/**
 * v2v's version, from package.json: printed by `-V` and written into the
 * outputs that record their converter (`-o kubevirt`'s labels).
 */
import { readFileSync } from 'node:fs';

/** v2v's version, from package.json (found from src/host/ or dist/src/host/). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'v2v' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
