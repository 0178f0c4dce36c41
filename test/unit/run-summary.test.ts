import { describe, expect, it } from 'vitest';
import { normalizeOptions } from '../../src/cli/options.js';
import { runSummary } from '../../src/run/summary.js';

const changes = [
  'removing open-vm-tools',
  '/etc/fstab: /dev/sda1 → /dev/vda1, /dev/sda2 → /dev/vda2',
  'rebuilding the initramfs of 6.1.0-13-amd64 (slow under TCG)',
  'conversion of the guest finished',
];
const local = normalizeOptions({ o: 'local', os: '/out', positional: ['/g.vmx'] });

describe('runSummary', () => {
  it('lists the changes on a terminal, then the next step', () => {
    expect(runSummary(local, 'web01', ['/out/web01.xml', '/out/web01-sda'], changes, true, '12:00:00')).toEqual([
      'Changed in the guest:',
      '  - removing open-vm-tools',
      '  - /etc/fstab: /dev/sda1 → /dev/vda1, /dev/sda2 → /dev/vda2',
      '  - rebuilding the initramfs of 6.1.0-13-amd64 (slow under TCG)',
      'Next: virsh define /out/web01.xml && virsh start web01',
    ]);
  });
  it('adds only the next step, as a timestamped detail line, to a piped log (which has the changes already)', () => {
    expect(runSummary(local, 'web01', ['/out/web01.xml'], changes, false, '12:00:00')).toEqual([
      '› [12:00:00] next: virsh define /out/web01.xml && virsh start web01',
    ]);
  });
  it('names the script for -o qemu, the connection for -o libvirt, nothing for -o null', () => {
    const qemu = normalizeOptions({ o: 'qemu', os: '/out', positional: ['/g.vmx'] });
    expect(runSummary(qemu, 'g', ['/out/g.sh'], [], true, 't')).toEqual(['Next: run /out/g.sh to boot the guest']);
    const libvirt = normalizeOptions({ o: 'libvirt', oc: 'qemu:///system', positional: ['/g.vmx'] });
    expect(runSummary(libvirt, 'g', [], [], true, 't')).toEqual(['Next: virsh -c qemu:///system start g']);
    expect(runSummary(normalizeOptions({ o: 'null', positional: ['/g.vmx'] }), 'g', [], changes, false, 't')).toEqual([]);
  });
});
