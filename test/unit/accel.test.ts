import { describe, expect, it } from 'vitest';
import { acceleratorProbeCommand, probeFirmware, PROBE_EXIT_CODE } from '../../drivers/qemu-system.js';

describe('accelerator probe', () => {
  it('puts the exit sequence at the reset vector', () => {
    const rom = probeFirmware();
    expect(rom.length).toBe(65536);
    expect([...rom.subarray(0xfff0, 0xfff7)]).toEqual([0xb0, 0x31, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]);
    expect(PROBE_EXIT_CODE).toBe(99);
  });
  it('uses -cpu host only under KVM (where MSR problems show)', () => {
    expect(acceleratorProbeCommand('/f', 'kvm').args).toContain('host');
    expect(acceleratorProbeCommand('/f', 'tcg').args).not.toContain('host');
  });
});
