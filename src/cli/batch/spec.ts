/**
 * The command line of `v2v batch` as data: src/cli/index.ts parses it, prints its
 * --help and completes its options from this alone. The runner, command.ts, and
 * what it pulls in (manifest schema, runs) load only when a batch runs.
 */
import type { SubcommandSpec } from '../subcommand.js';

const EPILOG = `Manifest (JSON or YAML), one entry per guest with the options of a single run:
  { "guests": [
      { "name": "web01",
        "input":  { "mode": "vmx", "paths": ["vms/web01/web01.vmx"] },
        "output": { "mode": "local", "storage": "/var/tmp/out", "format": "qcow2" },
        "networks": ["VM Network:default"] } ] }
A vSphere VM: "input": { "connection": "vpx://...", "passwordFile": "pw.txt",
"paths": ["VMNAME"] } (-ic, -ip, and "caFile" for --ca-file).
Keys (the long flag names in camelCase; see docs/batch.md): name
(also the output name), input {mode, paths, format, connection, transport,
passwordFile, sshIdentity, knownHosts, sshFingerprint, caFile, insecure,
bandwidth, bandwidthFile}, output {mode, storage, connection, format,
allocation, name, compressed, domainType, noSpaceCheck}, networks, bridges,
macs, root, virtioWin, verbose, trace, logFile, noLogFile, verify (checksum,
boot, all or true, none or false). Unknown keys stop the batch before anything runs; missing
sources and taken output names are refused before the first guest.
Relative paths are relative to the manifest. Each guest runs as its own v2v
process; its output goes to LOGDIR/NAME.log and its --machine-readable events
to LOGDIR/NAME.events.jsonl. One guest failing does not stop the others. A
rerun skips guests the report says were converted with the same options whose
files still exist.

Exit codes: 0 all converted or skipped; 2 bad manifest or options; 6 one or
more guests failed; 130 interrupted (running guests are stopped and cleaned up).`;

/** The command line of `v2v batch`. */
export const BATCH_COMMAND: SubcommandSpec = {
  name: 'batch',
  usage: 'Usage: v2v batch MANIFEST [--jobs N] [--log-dir DIR] [--report FILE]\n\nConvert many guests listed in a manifest.',
  positional: {
    command: '$0 <manifest>',
    describe: 'Convert the guests of MANIFEST',
    name: 'manifest',
    options: { type: 'string', describe: 'JSON or YAML manifest of guests' },
    missing: 'No manifest given: pass the JSON or YAML file listing the guests, e.g. "v2v batch guests.json".',
  },
  options: {
    jobs: { alias: 'j', type: 'number', default: 1, describe: 'Guests converted at the same time' },
    'log-dir': { type: 'string', describe: 'Per-guest logs and events (default: MANIFEST without extension + ".v2v-batch")' },
    report: { type: 'string', describe: 'JSON report, also read to skip converted guests on a rerun (default: LOGDIR/report.json)' },
  },
  epilog: EPILOG,
  shortOptionGroups: true,
};
