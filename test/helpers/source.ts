/** A source VM for output tests: BIOS, no disks, removables, NICs or warnings unless `overrides` says otherwise. */
import type { Source } from '../../src/model.js';

export function testSource(overrides: Partial<Source> = {}): Source {
  return {
    name: 'guest',
    memoryMiB: 2048,
    vcpus: 2,
    firmware: 'bios',
    secureBoot: false,
    disks: [],
    removables: [],
    nics: [],
    warnings: [],
    ...overrides,
  };
}
