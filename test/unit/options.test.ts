import { describe, expect, it } from 'vitest';
import { normalizeOptions, type RawOptions } from '../../src/options.js';
import { UsageError } from '../../src/errors.js';

const base: RawOptions = { i: 'vmx', o: 'local', os: '/out', positional: ['/src/guest.vmx'] };

describe('normalizeOptions', () => {
  it('fills defaults', () => {
    expect(normalizeOptions(base)).toEqual({
      input: { mode: 'vmx', path: '/src/guest.vmx' },
      output: { mode: 'local', storage: '/out', format: 'raw', allocation: 'sparse' },
      verbose: false,
      trace: false,
      quiet: false,
    });
  });
  it.each<[Partial<RawOptions>, RegExp]>([
    [{ positional: [] }, /No source given/],
    [{ positional: ['a.vmx', 'b.vmx'] }, /takes one source file/],
    [{ o: undefined }, /No output mode given: add "-o local -os DIR"/],
    [{ o: 'glance' }, /Unknown output mode "-o glance"/],
    [{ os: undefined }, /needs an output directory: add "-os DIR"/],
    [{ of: 'vmdk' }, /Unsupported output format "-of vmdk"/],
    [{ oa: 'thick' }, /Unknown allocation "-oa thick"/],
    [{ on: '../etc' }, /Invalid guest name/],
    [{ quiet: true, verbose: true }, /-q cannot be combined/],
  ])('rejects %j', (patch, message) => {
    const call = (): unknown => normalizeOptions({ ...base, ...patch });
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });
});
