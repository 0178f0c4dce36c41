/**
 * The command line of `v2v list` as data: src/cli/index.ts parses it, prints its
 * --help and completes its options from this alone. The runner, list.ts, and
 * the vSphere client it pulls in load only when a listing runs.
 */
import type { SubcommandSpec } from './subcommand.js';

/** The command line of `v2v list`. */
export const LIST_COMMAND: SubcommandSpec = {
  name: 'list',
  usage:
    "Usage: v2v list -ic 'vpx://USER@VCENTER/DATACENTER/HOST[?no_verify=1]' -ip PASSWORD_FILE [--json]\n\nList the VMs a vCenter datacenter or an ESXi host (esx://USER@ESXI) holds.",
  options: {
    ic: { type: 'string', describe: 'vpx:// or esx:// URI, as for a conversion' },
    ip: { type: 'string', describe: 'File whose first line is the password' },
    'ca-file': { type: 'string', describe: 'CA certificate(s) verifying the server (default: the system CAs)' },
    json: { type: 'boolean', describe: 'Print JSON (an array of VMs) instead of a table' },
  },
  shortOptionGroups: false,
};
