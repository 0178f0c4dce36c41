/**
 * docs/virt-v2v-compat.md is kept true: every option the real
 * `virt-v2v --help` lists is in the table (each row's example through v2v's
 * parser and option rules: test/unit/compat-table.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const TABLE = readFileSync(new URL('../../docs/virt-v2v-compat.md', import.meta.url), 'utf8');

/** The option names of the table's rows (first column, in backticks). */
function rows(): Array<{ options: string[] }> {
  return TABLE.split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return { options: [...cells[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
    });
}

describe('docs/virt-v2v-compat.md', () => {
  it('has a row for every option of virt-v2v --help', () => {
    let help: string;
    try {
      help = execFileSync('virt-v2v', ['--help'], { encoding: 'utf8' });
    } catch {
      // setup.sh installs virt-v2v (the benchmark needs it); without it there is nothing to compare to.
      expect.fail('virt-v2v is not installed: run scripts/setup.sh');
    }
    const listed = new Set<string>();
    for (const line of help.split('\n').filter((l) => /^\s+-/.test(l))) {
      for (const m of line.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g)) listed.add(m[1]!);
    }
    const inTable = new Set(rows().flatMap((r) => r.options.map((o) => o.split(' ')[0]!)));
    expect([...listed].filter((o) => !inTable.has(o))).toEqual([]);
    // Every -i and -o mode virt-v2v lists has its own row.
    const modes = (flag: string): string[] => (new RegExp(`^\\s+${flag} <([^>]+)>`, 'm').exec(help)?.[1] ?? '').split('|');
    const tableModes = new Set(rows().flatMap((r) => r.options));
    expect(modes('-i').filter((m) => !tableModes.has(`-i ${m}`))).toEqual([]);
    expect(modes('-o').filter((m) => !tableModes.has(`-o ${m}`))).toEqual([]);
  });
});
