/**
 * Input modules: one per `-i` mode behind one interface, chosen in
 * {@link selectInput}.
 */
import type { InputOptions } from '../options.js';
import type { Source } from '../model.js';
import { vmxInput } from './vmx.js';

/** A source of guest metadata and disks. */
export interface Input {
  /** Human description for progress output, e.g. "VMX file /x/guest.vmx". */
  describe: string;
  /** Reads and checks the source metadata. Throws SourceError on bad input. */
  load(): Promise<Source>;
}

/** Picks the input module for the options. */
export function selectInput(options: InputOptions): Input {
  switch (options.mode) {
    case 'vmx':
      return vmxInput(options.path);
  }
}
