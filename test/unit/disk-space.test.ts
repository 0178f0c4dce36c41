/**
 * The target space check measures sparse raw as qcow2 (what the copy will
 * allocate; with the real qemu-img: test/integration/disk-space.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { measureFormat } from '../../src/host/disk-space.js';

describe('target space needed', () => {
  it('asks qcow2 about sparse raw (measure -O raw says the virtual size)', () => {
    expect(measureFormat('raw', 'sparse')).toBe('qcow2');
    expect(measureFormat('raw', 'preallocated')).toBe('raw');
    expect(measureFormat('qcow2', 'sparse')).toBe('qcow2');
  });
});
