/**
 * Picks the converter for an inspected guest. Unsupported guests are refused
 * with the reason, before anything is modified.
 */
import { ConversionError } from '../errors.js';
import type { GuestCaps, Inspection } from '../model.js';
import { convertDebian, type ConvertInput } from './debian.js';

/** A converter for one family of guests. */
export type Converter = (input: ConvertInput) => Promise<Omit<GuestCaps, 'domainType'>>;

/** Debian-family distros handled by the Debian converter. */
const DEBIAN_FAMILY = new Set(['debian', 'ubuntu', 'linuxmint', 'kalilinux']);

/** Returns the converter for the guest, or throws ConversionError naming what is unsupported. */
export function selectConverter(inspection: Inspection): Converter {
  if (inspection.type === 'linux' && DEBIAN_FAMILY.has(inspection.distro)) return convertDebian;
  throw new ConversionError(
    `Converting ${inspection.productName || `${inspection.type}/${inspection.distro}`} is not supported yet: v2v converts Debian-family Linux guests (Debian, Ubuntu).`,
  );
}
