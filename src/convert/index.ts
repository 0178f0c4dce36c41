/**
 * Picks the converter for an inspected guest. Unsupported guests are refused
 * with the reason, before anything is modified.
 */
import { ConversionError } from '../errors.js';
import type { Inspection } from '../model.js';
import type { ConvertInput, ConvertResult } from './convert-input.js';
import { convertDebian } from './linux/debian.js';
import { convertRhel } from './linux/rhel.js';
import { convertSuse } from './linux/suse.js';
import { convertWindows } from './windows/convert.js';

/** A converter for one family of guests. */
export type Converter = (input: ConvertInput) => Promise<ConvertResult>;

/** Debian-family distros handled by the Debian converter. */
const DEBIAN_FAMILY = new Set(['debian', 'ubuntu', 'linuxmint', 'kalilinux']);

/** RHEL-family distros (libguestfs' inspect-get-distro names) handled by the RHEL converter. */
const RHEL_FAMILY = new Set(['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'oraclelinux', 'scientificlinux', 'redhat-based', 'circle']);

/** SUSE distros handled by the SUSE converter. */
const SUSE_FAMILY = new Set(['sles', 'opensuse', 'suse-based']);

/** The families v2v converts, for the refusal message. */
const SUPPORTED = 'Debian, Ubuntu, RHEL, CentOS, AlmaLinux, Rocky Linux, Fedora, SLES and openSUSE';

/** Returns the converter for the guest, or throws ConversionError naming what is unsupported. */
export function selectConverter(inspection: Inspection): Converter {
  const name =
    inspection.productName && inspection.productName !== 'unknown' ? inspection.productName : `${inspection.type}/${inspection.distro}`;
  if (inspection.type === 'linux') {
    if (DEBIAN_FAMILY.has(inspection.distro)) return convertDebian;
    if (RHEL_FAMILY.has(inspection.distro)) return convertRhel;
    if (SUSE_FAMILY.has(inspection.distro)) return convertSuse;
    throw new ConversionError(
      `Converting ${name} (distribution "${inspection.distro}") is not supported: v2v converts ${SUPPORTED} Linux guests; convert this guest by hand or with virt-v2v.`,
    );
  }
  if (inspection.type === 'windows') return convertWindows;
  throw new ConversionError(`Converting ${name} is not supported: v2v converts ${SUPPORTED} Linux guests, and Windows.`);
}
