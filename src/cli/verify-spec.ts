/**
 * The command line of `v2v verify` as data: src/cli/index.ts parses it, prints its
 * --help and completes its options from this alone. The runner, verify.ts, and
 * the qemu drivers it pulls in load only when a check runs.
 */
import type { SubcommandSpec } from './subcommand.js';
import { BOOT_TIMEOUT_MS } from '../verify/boot-timeouts.js';

const EPILOG = `The guest is booted under qemu (KVM when usable, else TCG) with no network
device, its disks behind throwaway overlays (never written), and passes when
its serial console shows a login prompt or systemd's multi-user target. It
fails on "Gave up waiting for root", an initramfs or dracut shell, emergency
mode or a kernel panic, or when nothing decides within the timeout (${BOOT_TIMEOUT_MS.tcg / 1000} s under
TCG, ${BOOT_TIMEOUT_MS.kvm / 1000} s under KVM). Linux guests only: the guest must use a serial
console (v2v adds console=ttyS0 when it converts).

Exit codes: 0 booted; 2 usage error; 4 unreadable XML or disk (or a qcow2 hostDisk); 7 did not boot
(the console is saved, see --console-log); 130 interrupted.`;

/** The command line of `v2v verify`. */
export const VERIFY_COMMAND: SubcommandSpec = {
  name: 'verify',
  usage:
    'Usage: v2v verify DOMAIN.xml | NAME.yaml | DISK... [--firmware bios|uefi] [--timeout SECONDS] [--console-log FILE]\n\nBoot a converted guest read-only and check it reaches userspace.',
  positional: {
    command: '$0 <paths..>',
    describe: 'Boot-check the guest of DOMAIN.xml (-o local) or NAME.yaml (-o kubevirt), or these disks (first one boots)',
    name: 'paths',
    options: { type: 'string', array: true, describe: 'A libvirt domain XML, a KubeVirt VirtualMachine YAML, or disk images' },
    missing: 'No guest given: pass a domain XML or the disk images, e.g. "v2v verify /var/tmp/out/guest.xml".',
  },
  options: {
    firmware: {
      type: 'string',
      choices: ['bios', 'uefi'],
      describe: 'Firmware for disks given directly (default bios; an XML or YAML says its own)',
    },
    timeout: { type: 'number', describe: 'Seconds to wait for the guest to reach userspace (default by accelerator)' },
    'console-log': {
      type: 'string',
      describe:
        "Where a failed boot's console is saved (default: NAME.verify-console.log next to the XML or YAML, else in $TMPDIR or /var/tmp)",
    },
  },
  epilog: EPILOG,
  shortOptionGroups: true,
};
