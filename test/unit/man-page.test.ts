/**
 * docs/v2v.1 is --help rendered as a man page: re-rendered here from the real
 * parser and compared (UPDATE_GOLDEN=1 rewrites the file); checked with man
 * itself in test/integration/man-page.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/index.js';
import { renderManPage } from '../../src/cli/man-page.js';
import { packageVersion } from '../../src/cli/capabilities.js';

const FILE = fileURLToPath(new URL('../../docs/v2v.1', import.meta.url));

describe('docs/v2v.1', () => {
  it('is the --help text rendered, every option included', async () => {
    // --help wraps at the terminal's width (at most 100): render at 100 wherever the test runs.
    const columns = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
    Object.defineProperty(process.stdout, 'columns', { value: 100, configurable: true });
    const help = await parseCommandLine(['--help']).finally(() => {
      if (columns) Object.defineProperty(process.stdout, 'columns', columns);
      else delete (process.stdout as { columns?: number }).columns;
    });
    if (help.kind !== 'print') throw new Error('no help');
    const page = renderManPage(help.text, packageVersion());
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(FILE, page);
    expect(readFileSync(FILE, 'utf8')).toBe(page);
    for (const flag of ['-os', '--network', '--compressed', '--bandwidth', '--no-space-check', '--domain-type', '--version']) {
      expect(page.replace(/\\-/g, '-')).toContain(flag);
    }
  });
});
