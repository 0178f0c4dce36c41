/**
 * docs/virt-v2v-compat.md is kept true: every row's example goes through
 * v2v's real parser and option rules (no conversion): refused rows fail
 * naming the option, ignored rows warn, the others are accepted. That every
 * option `virt-v2v --help` lists is in the table:
 * test/integration/compat-table.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/index.js';
import { UsageError } from '../../src/errors.js';
import { normalizeOptions } from '../../src/cli/options.js';
import type { Options } from '../../stages/context.js';

const TABLE = readFileSync(new URL('../../docs/virt-v2v-compat.md', import.meta.url), 'utf8');

interface Row {
  options: string[];
  status: string;
  example: string;
}

/** The table's rows: option names of the first column (in backticks), status, example. */
function rows(): Row[] {
  return TABLE.split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return {
        options: [...cells[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
        status: cells[1]!,
        example: cells[3]!.replace(/^`|`$/g, ''),
      };
    });
}

const work = mkdtempSync(join(tmpdir(), 'v2v-compat-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const guest = join(work, 'guest.vmx');
writeFileSync(guest, 'displayName = "g"\n');
writeFileSync(join(work, 'rate'), '1M\n');
writeFileSync(join(work, 'pw'), 'secret\n');

/** Runs an example through the parser and the rules; what it gives. */
async function tryExample(example: string): Promise<{ options?: Options; printed?: string; error?: unknown }> {
  const argv = example.split(/\s+/).map((w) => w.replace('GUEST', guest).replace('DIR', work));
  try {
    const line = await parseCommandLine(argv);
    if (line.kind === 'print') return { printed: line.text };
    if (line.kind === 'done' || line.kind === 'complete') return {};
    return { options: normalizeOptions(line.raw) };
  } catch (error) {
    return { error };
  }
}

describe('docs/virt-v2v-compat.md', () => {
  it.each(rows().map((r) => [r.options.join(', '), r] as const))('%s behaves as the table says', async (_name, row) => {
    expect(['same', 'different', 'ignored', 'refused']).toContain(row.status);
    const result = await tryExample(row.example);
    if (row.status === 'refused') {
      expect(result.error).toBeInstanceOf(UsageError);
      const message = (result.error as Error).message;
      expect(message).toMatch(/not supported/);
      // The sentence names the option the user typed.
      expect(row.options.some((o) => message.includes(o.split(' ')[0]!) || message.includes(o))).toBe(true);
      return;
    }
    expect(result.error).toBeUndefined();
    if (row.status === 'ignored') {
      expect(result.options?.warnings?.join(' ')).toContain(row.options[0]!.split(' ')[0]);
    }
  });
});
