/**
 * Output modules: one per `-o` mode behind one interface, chosen in
 * {@link selectOutput}. Each checks its target in preflight, before any slow
 * work, and writes its metadata after the copy.
 */
import type { OutputOptions } from './options.js';
import type { Output } from './types.js';
import { jsonOutput } from './json.js';
import { kubevirtOutput } from './kubevirt.js';
import { libvirtOutput } from './libvirt.js';
import { localOutput } from './local.js';
import { nullOutput } from './null.js';
import { qemuOutput } from './qemu.js';

/** Picks the output module for the options. */
export function selectOutput(options: OutputOptions): Output {
  switch (options.mode) {
    case 'local':
      return localOutput(options);
    case 'libvirt':
      return libvirtOutput({
        uri: options.connection ?? 'qemu:///system',
        pool: options.storage,
        format: options.format,
        allocation: options.allocation,
        networkMapping: options.networkMapping,
      });
    case 'qemu':
      return qemuOutput(options);
    case 'json':
      return jsonOutput(options);
    case 'kubevirt':
      return kubevirtOutput(options);
    case 'null':
      return nullOutput();
  }
}
