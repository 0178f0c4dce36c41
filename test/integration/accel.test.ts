import { describe, expect, it } from 'vitest';
import { probeAccelerator } from '../../drivers/qemu-system.js';

describe('accelerator probe', () => {
  it('really runs the probe guest under TCG (real qemu)', async () => {
    expect(await probeAccelerator('tcg')).toEqual({ usable: true, reason: 'tcg ran a test guest' });
  });
});
