/**
 * Command line: yargs only. Parses argv into raw options, hands them to
 * normalizeOptions and main.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './errors.js';
import { main, reportError } from './main.js';
import { INPUT_MODES, normalizeOptions, OUTPUT_MODES } from './options.js';
import { batchCli } from './batch/cli.js';
import { listCli } from './list/cli.js';
import { verifyCli } from './verify/cli.js';
import { capabilities } from './progress/capabilities.js';
import { redactUrl } from './redact.js';

const EPILOG = `Examples:
  v2v -i vmx guest.vmx -o local -os /var/tmp/out
  v2v -i vmx guest.vmx -o local -os /var/tmp/out -of qcow2 -on web01
  v2v -i vmx guest.vmx -o libvirt -os default -b br0
  v2v -i ova appliance.ova -o qemu -os /var/tmp/out
  v2v -i disk disk1.img disk2.img -if raw -o json -os /var/tmp/out
  v2v -i vmx win2019.vmx -o local -os /var/tmp/out --virtio-win /var/tmp/virtio-win.iso
  v2v -i vmx guest.vmx -o local -os /var/tmp/out --machine-readable=file:events.jsonl
  v2v -ic 'vpx://admin%40vsphere.local@vcenter/DC/cluster/esxi1' -ip pw.txt web01 -o local -os /var/tmp/out
  v2v list -ic 'esx://root@esxi1?no_verify=1' -ip pw.txt [--json]   (VMs to pick from)
  v2v -i vmx guest.vmx -o local -os /var/tmp/out --verify     (checksum the copy, boot the result)
  v2v batch guests.json --jobs 2          (many guests; "v2v batch --help")
  v2v verify /var/tmp/out/guest.xml       (boot-check a conversion again; "v2v verify --help")

Exit codes:
  0    converted
  1    internal error (a bug: please report it)
  2    usage error (bad command line)
  3    preflight failure (tools, target, space, name collision): nothing written
  4    source, inspection or conversion failure: nothing written
  5    copy failure (or --verify=checksum found a difference): partial targets removed
  6    v2v batch: one or more guests failed (see its summary and report)
  7    converted but did not boot (--verify=boot, v2v verify): console log named in the error
  130  interrupted by SIGINT/SIGTERM: temporary files and partial targets removed`;

/** Parses argv and runs; resolves to the exit code. */
export async function cli(argv: string[]): Promise<number> {
  if (argv[0] === 'batch') return batchCli(argv.slice(1));
  if (argv[0] === 'list') return listCli(argv.slice(1));
  if (argv[0] === 'verify') return verifyCli(argv.slice(1));
  // Bare --machine-readable must not swallow the next word (the source) as its value.
  const parser = yargs(argv.map((word) => (word === '--machine-readable' || word === '--verify' ? `${word}=` : word)))
      .scriptName('v2v')
      .usage(
        'Usage: v2v -i vmx GUEST.vmx | -i disk IMG... | -i libvirtxml FILE | -i ova OVA|DIR\n' +
          '           | -ic vpx://...|esx://... -ip PASSWORD_FILE VMNAME\n' +
          '           -o local|libvirt|qemu|json|null [-os DIR|POOL] [options]\n\n' +
          'Convert a VMware (or other) guest to run on KVM/libvirt. The source is never modified.',
      )
      // -os, -of, -on are options of their own, not groups of one-letter flags.
      .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false })
      .option('i', { type: 'string', choices: INPUT_MODES, describe: 'Input mode (default vmx; libvirt with -ic)', group: 'Input:' })
      .option('ic', { type: 'string', describe: "vCenter/ESXi URI for -i libvirt: 'vpx://USER@VCENTER/DC/[CLUSTER/]HOST[?no_verify=1]' or 'esx://USER@ESXI'; the source is then a VM name", group: 'Input:' })
      .option('if', { type: 'string', describe: 'Format of the -i disk images (default: probed)', group: 'Input:' })
      .option('print-source', { type: 'boolean', describe: 'Print the parsed source (JSON) and stop', group: 'Input:' })
      .option('it', { type: 'string', choices: ['ssh'], describe: 'Input transport: ssh for an ssh://user@host[:port]/path/guest.vmx source', group: 'Remote source:' })
      .option('ip', { type: 'string', describe: 'File holding the SSH or HTTPS password (never put it on the command line)', group: 'Remote source:' })
      .option('ssh-identity', { type: 'string', describe: 'SSH private key file (default: your default keys)', group: 'Remote source:' })
      .option('known-hosts', { type: 'string', describe: 'known_hosts file verifying the SSH host key (default ~/.ssh/known_hosts)', group: 'Remote source:' })
      .option('ssh-fingerprint', { type: 'string', describe: 'Trust the SSH host key with this fingerprint (SHA256:..., from "ssh-keygen -lf")', group: 'Remote source:' })
      .option('ca-file', { type: 'string', describe: 'CA certificate(s) verifying an https:// source', group: 'Remote source:' })
      .option('insecure', { type: 'boolean', describe: 'Do not verify the https:// certificate (unsafe: explicit opt-out)', group: 'Remote source:' })
      .option('o', { type: 'string', choices: OUTPUT_MODES, describe: 'Output mode', group: 'Output:' })
      .option('oc', { type: 'string', describe: 'libvirt URI for -o libvirt (default qemu:///system)', group: 'Output:' })
      .option('os', { type: 'string', describe: 'Output storage: a directory (local, qemu, json) or a libvirt pool (default "default")', group: 'Output:' })
      .option('of', { type: 'string', choices: ['raw', 'qcow2'], describe: 'Output disk format (default raw)', group: 'Output:' })
      .option('oa', { type: 'string', choices: ['sparse', 'preallocated'], describe: 'Output allocation (default sparse)', group: 'Output:' })
      .option('on', { type: 'string', describe: 'Rename the guest on output', group: 'Output:' })
      .option('network', { alias: 'n', type: 'string', array: true, describe: 'Map source network IN to libvirt network OUT ("IN:OUT", or "OUT" for all); repeatable', group: 'Networks:' })
      .option('bridge', { alias: 'b', type: 'string', array: true, describe: 'Map source network IN to host bridge OUT ("IN:OUT" or "OUT"); repeatable', group: 'Networks:' })
      .option('mac', { type: 'string', array: true, describe: 'Map one NIC by MAC: "MAC:network:OUT" or "MAC:bridge:OUT"; or give it a static IP: "MAC:ip:ADDR[,GW[,PREFIX[,DNS...]]]"; repeatable', group: 'Networks:' })
      .option('root', { type: 'string', describe: 'Multi-boot guests: which root to convert: single (default: refuse multi-boot), first, ask, or a device such as /dev/sda2', group: 'Conversion:' })
      .option('virtio-win', { type: 'string', describe: 'Windows guests: virtio-win drivers, a directory laid out like the virtio-win ISO or the ISO itself (default: $VIRTIO_WIN, else /usr/share/virtio-win)', group: 'Conversion:' })
      .option('key', { type: 'string', array: true, describe: 'LUKS key for an encrypted volume (not supported yet: refused)', group: 'Conversion:' })
      .option('verify', { type: 'string', describe: 'After the copy: checksum (compare each target with the converted image), boot (boot it with no network), both when bare; default none', group: 'Conversion:' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print nothing but errors and warnings' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Verbose messages' })
      .option('trace', { alias: 'x', type: 'boolean', describe: 'Trace every external command with its argv (stderr)' })
      .option('machine-readable', { type: 'string', describe: 'JSON-lines progress events on stdout, or =file:FILE or =fd:N; alone, list capabilities' })
      .help(false)
      .option('help', { alias: 'h', type: 'boolean', describe: 'Show this help' })
      .epilog(EPILOG)
      .strictOptions()
      .version()
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      });
  let parsed;
  try {
    parsed = await parser.parseAsync();
  } catch (error) {
    process.stderr.write(`v2v: error: ${redactUrl(error instanceof Error ? error.message : String(error))}\nRun "v2v --help" for usage.\n`);
    return ExitCode.usage;
  }
  if (parsed['help']) {
    // yargs shows multi-letter options as --os; users type -os, as with virt-v2v.
    process.stdout.write(`${(await parser.getHelp()).replace(/--(o[sfanc]|i[ftpc])\b/g, ' -$1')}\n`);
    return ExitCode.ok;
  }
  if (parsed['version']) return ExitCode.ok;
  if (parsed['machine-readable'] === '' && parsed._.length === 0) {
    process.stdout.write(`${capabilities().join('\n')}\n`);
    return ExitCode.ok;
  }
  let options;
  try {
    options = normalizeOptions({
      i: parsed['i'] as string | undefined,
      ic: parsed['ic'] as string | undefined,
      if: parsed['if'] as string | undefined,
      o: parsed['o'] as string | undefined,
      oc: parsed['oc'] as string | undefined,
      os: parsed['os'] as string | undefined,
      of: parsed['of'] as string | undefined,
      oa: parsed['oa'] as string | undefined,
      on: parsed['on'] as string | undefined,
      network: parsed['network'] as string[] | undefined,
      bridge: parsed['bridge'] as string[] | undefined,
      mac: parsed['mac'] as string[] | undefined,
      printSource: parsed['print-source'] as boolean | undefined,
      positional: parsed._.map(String),
      remote: {
        it: parsed['it'] as string | undefined,
        ip: parsed['ip'] as string | undefined,
        sshIdentity: parsed['ssh-identity'] as string | undefined,
        knownHosts: parsed['known-hosts'] as string | undefined,
        sshFingerprint: parsed['ssh-fingerprint'] as string | undefined,
        caFile: parsed['ca-file'] as string | undefined,
        insecure: parsed['insecure'] as boolean | undefined,
      },
      verbose: parsed['verbose'] as boolean | undefined,
      trace: parsed['trace'] as boolean | undefined,
      quiet: parsed['quiet'] as boolean | undefined,
      machineReadable: parsed['machine-readable'] as string | undefined,
      root: parsed['root'] as string | undefined,
      key: parsed['key'] as string[] | undefined,
      virtioWin: parsed['virtio-win'] as string | undefined,
      verify: parsed['verify'] as string | undefined,
    });
  } catch (error) {
    return reportError(error);
  }
  return main(options);
}

process.exitCode = await cli(hideBin(process.argv));
