/**
 * The input's options: which `-i` mode, the source paths and, for remote
 * sources, how to reach them (each part parsed by its own module: remote/options.ts, vsphere/options.ts).
 */
import type { RemoteOptions } from '../remote/options.js';
import type { VsphereOptions } from './vsphere/options.js';

/** Input modes implemented. */
export const INPUT_MODES = ['vmx', 'disk', 'libvirtxml', 'ova', 'libvirt'] as const;
/** Input transports (-it). */
export const INPUT_TRANSPORTS = ['ssh'] as const;
/** Where the source comes from. */
export interface InputOptions {
  mode: (typeof INPUT_MODES)[number];
  /** The source files (absolute): one, or several disk images for -i disk. */
  paths: string[];
  /** Format of -i disk images (-if); probed when absent. */
  format?: string;
  /** Set when the source is ssh:// or https:// (paths are then URLs). */
  remote?: RemoteOptions;
  /** Set for -i libvirt -ic vpx://|esx:// (paths is then the VM name). */
  vsphere?: VsphereOptions;
}
