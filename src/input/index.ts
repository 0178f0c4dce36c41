/**
 * Input modules: one per `-i` mode behind one interface, chosen in
 * {@link selectInput}.
 */
import type { InputOptions } from './options.js';
import type { Input } from './types.js';
import { diskInput } from './disk.js';
import { libvirtXmlInput } from './libvirtxml/input.js';
import { ovaInput } from './ova/input.js';
import { vmxInput } from './vmx/input.js';
import { vsphereInput } from './vsphere/input.js';

/** Picks the input module for the options. */
export function selectInput(options: InputOptions): Input {
  const [first] = options.paths as [string];
  switch (options.mode) {
    case 'vmx':
      return vmxInput(first, {
        ...(options.remote !== undefined ? { remote: options.remote } : {}),
        ...(options.allowDirs !== undefined ? { allowDirs: options.allowDirs } : {}),
      });
    case 'disk':
      return diskInput(options.paths, options.format, options.remote);
    case 'libvirtxml':
      return libvirtXmlInput(first);
    case 'ova':
      return ovaInput(first);
    case 'libvirt':
      if (options.vsphere === undefined) throw new Error('internal error: -i libvirt without vSphere options');
      return vsphereInput(options.vsphere);
  }
}
