import { describe, expect, it } from 'vitest';
import { bootFirmware } from '../../src/output/firmware.js';
import { OVMF } from '../../src/output/qemu.js';
import { qemuArgs } from '../helpers/boot.js';

describe('bootFirmware', () => {
  it('is UEFI when the source metadata or inspection says so, BIOS only when both agree', () => {
    expect(bootFirmware({ firmware: 'uefi' })).toBe('uefi');
    expect(bootFirmware({ firmware: 'uefi' }, { firmware: 'bios' })).toBe('uefi');
    expect(bootFirmware({ firmware: 'bios' }, { firmware: 'uefi' })).toBe('uefi');
    expect(bootFirmware({ firmware: 'bios' }, { firmware: 'bios' })).toBe('bios');
    expect(bootFirmware({ firmware: 'bios' })).toBe('bios');
  });
});

describe('boot test helper argv', () => {
  const base = { disk: '/t/a,b.qcow2', format: 'qcow2', bus: 'virtio' } as const;

  it('adds read-only OVMF code and the per-boot variable store for UEFI', () => {
    const args = qemuArgs({ ...base, firmware: 'uefi', varsPath: '/tmp/x,y/VARS.fd' });
    const at = args.indexOf(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`);
    expect(at).toBeGreaterThan(0);
    expect(args[at - 1]).toBe('-drive');
    expect(args[at + 1]).toBe('-drive');
    expect(args[at + 2]).toBe('if=pflash,format=raw,unit=1,file=/tmp/x,,y/VARS.fd');
    expect(args).toContain('file=/t/a,,b.qcow2,format=qcow2,snapshot=on,if=virtio');
    expect(args.slice(0, 2)).toEqual(['-accel', 'tcg']);
    expect(args).toContain('none'); // -nic none
  });

  it('has no pflash for BIOS and refuses UEFI without a variable store', () => {
    expect(qemuArgs(base).some((a) => a.includes('pflash'))).toBe(false);
    expect(() => qemuArgs({ ...base, firmware: 'uefi' })).toThrow(/varsPath/);
  });

  it('gives no NIC by default, and one virtio-net NIC on an isolated hub when asked', () => {
    const none = qemuArgs(base);
    expect(none[none.indexOf('-nic') + 1]).toBe('none');
    expect(none).not.toContain('-netdev');
    const one = qemuArgs({ ...base, nic: { mac: '00:0c:29:3a:5b:7c' } });
    expect(one).not.toContain('-nic');
    expect(one.slice(one.indexOf('-netdev'), one.indexOf('-netdev') + 4)).toEqual([
      '-netdev',
      'hubport,id=n0,hubid=0',
      '-device',
      'virtio-net-pci,netdev=n0,mac=00:0c:29:3a:5b:7c',
    ]);
    // The hub has no other port: no user-mode or tap backend anywhere.
    expect(one.filter((a) => /\b(user|tap|bridge|socket)\b/.test(a))).toEqual([]);
  });
});
