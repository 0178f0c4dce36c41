/**
 * docs/v2v.1 renders with man itself, without warnings (that it is --help
 * rendered: test/unit/man-page.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FILE = fileURLToPath(new URL('../../docs/v2v.1', import.meta.url));

describe('docs/v2v.1', () => {
  it('renders with man without warnings', () => {
    const text = execFileSync('man', ['-l', '-P', 'cat', FILE], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(text).toMatch(/^V2V\(1\)/);
    expect(text).toContain('--no-space-check');
    expect(text).toContain('Exit codes'.toUpperCase());
  });
});
