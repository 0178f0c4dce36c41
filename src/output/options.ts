/**
 * The output's options: which `-o` mode, where, in which format, and how the
 * guest's NICs are mapped (-n/-b/--mac, parsed in networks.ts).
 */
import type { OutputFormat } from '../model.js';
import type { NetworkMapping } from './networks.js';

/** Output modes implemented. */
export const OUTPUT_MODES = ['local', 'libvirt', 'qemu', 'json', 'null'] as const;
/** Output disk formats (-of). */
export const OUTPUT_FORMATS = ['raw', 'qcow2'] as const;
/** Output allocations (-oa). */
export const ALLOCATIONS = ['sparse', 'preallocated'] as const;

/** Where the converted guest goes. */
export interface OutputOptions {
  mode: (typeof OUTPUT_MODES)[number];
  /** Output storage (-os): a directory (local, qemu, json) or a libvirt pool name; empty for null. */
  storage: string;
  /** libvirt connection URI (-oc), for -o libvirt. */
  connection?: string;
  format: OutputFormat;
  allocation: 'sparse' | 'preallocated';
  /** Rename the guest (-on). */
  name?: string;
  /** -n / -b / --mac rules. */
  networkMapping: NetworkMapping;
  /** qcow2 with compressed clusters (--compressed, -oo compressed). */
  compressed?: boolean;
  /** false with --no-space-check: the target free-space check is skipped (thin storage). */
  spaceCheck?: boolean;
  /** --domain-type: the domain type written; absent: kvm for files, the target's choice for -o libvirt. */
  domainType?: 'kvm' | 'qemu';
}
