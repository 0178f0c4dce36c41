/**
 * What bare `--machine-readable` (no source) prints: one capability per line,
 * as virt-v2v does, so scripts can test for a feature before using it. The
 * mode lists come from the real option tables, never from a copy.
 */
import { packageVersion } from '../host/version.js';
import { STAGES } from '../progress/events.js';
import { INPUT_MODES } from '../input/options.js';
import { OUTPUT_MODES } from '../output/options.js';

export { packageVersion };

/** Guest families a converter exists for (src/convert/index.ts). */
const CONVERT_FAMILIES = ['linux', 'windows'] as const;

/** The capability lines. */
export function capabilities(version = packageVersion()): string[] {
  return [
    `v2v-${version}`,
    'machine-readable',
    'machine-readable-progress',
    'batch',
    'list',
    'mac-option',
    'mac-ip-option',
    'network-option',
    'bridge-option',
    'print-source',
    'verify-option',
    'verify-command',
    // --warm: pre-copy a running vSphere VM, then cut over (docs/warm-migration.md).
    'warm',
    ...INPUT_MODES.map((mode) => `input:${mode}`),
    // -i libvirt reads from these -ic URI schemes (vCenter, ESXi).
    'ic:vpx',
    'ic:esx',
    ...OUTPUT_MODES.map((mode) => `output:${mode}`),
    ...CONVERT_FAMILIES.map((family) => `convert:${family}`),
    ...STAGES.map((stage) => `stage:${stage}`),
  ];
}
