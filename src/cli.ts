/**
 * Command line: yargs only. Parses argv into raw options, hands them to
 * normalizeOptions and main.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './errors.js';
import { main, reportError } from './main.js';
import { INPUT_MODES, normalizeOptions, OUTPUT_MODES } from './options.js';

const EPILOG = `Examples:
  v2v -i vmx guest.vmx -o local -os /var/tmp/out
  v2v -i vmx guest.vmx -o local -os /var/tmp/out -of qcow2 -on web01
  v2v -i vmx guest.vmx -o libvirt -os default -b br0
  v2v -i ova appliance.ova -o qemu -os /var/tmp/out
  v2v -i disk disk1.img disk2.img -if raw -o json -os /var/tmp/out

Exit codes:
  0    converted
  1    internal error (a bug: please report it)
  2    usage error (bad command line)
  3    preflight failure (tools, target, space, name collision): nothing written
  4    source, inspection or conversion failure: nothing written
  5    copy failure: partial targets removed
  130  interrupted by SIGINT/SIGTERM: temporary files and partial targets removed`;

/** Parses argv and runs; resolves to the exit code. */
export async function cli(argv: string[]): Promise<number> {
  const parser = yargs(argv)
      .scriptName('v2v')
      .usage(
        'Usage: v2v -i vmx GUEST.vmx | -i disk IMG... | -i libvirtxml FILE | -i ova OVA|DIR\n' +
          '           -o local|libvirt|qemu|json|null [-os DIR|POOL] [options]\n\n' +
          'Convert a VMware (or other) guest to run on KVM/libvirt. The source is never modified.',
      )
      // -os, -of, -on are options of their own, not groups of one-letter flags.
      .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false })
      .option('i', { type: 'string', choices: INPUT_MODES, describe: 'Input mode', default: 'vmx', group: 'Input:' })
      .option('if', { type: 'string', describe: 'Format of the -i disk images (default: probed)', group: 'Input:' })
      .option('print-source', { type: 'boolean', describe: 'Print the parsed source (JSON) and stop', group: 'Input:' })
      .option('o', { type: 'string', choices: OUTPUT_MODES, describe: 'Output mode', group: 'Output:' })
      .option('oc', { type: 'string', describe: 'libvirt URI for -o libvirt (default qemu:///system)', group: 'Output:' })
      .option('os', { type: 'string', describe: 'Output storage: a directory (local, qemu, json) or a libvirt pool (default "default")', group: 'Output:' })
      .option('of', { type: 'string', choices: ['raw', 'qcow2'], describe: 'Output disk format (default raw)', group: 'Output:' })
      .option('oa', { type: 'string', choices: ['sparse', 'preallocated'], describe: 'Output allocation (default sparse)', group: 'Output:' })
      .option('on', { type: 'string', describe: 'Rename the guest on output', group: 'Output:' })
      .option('network', { alias: 'n', type: 'string', array: true, describe: 'Map source network IN to libvirt network OUT ("IN:OUT", or "OUT" for all); repeatable', group: 'Networks:' })
      .option('bridge', { alias: 'b', type: 'string', array: true, describe: 'Map source network IN to host bridge OUT ("IN:OUT" or "OUT"); repeatable', group: 'Networks:' })
      .option('mac', { type: 'string', array: true, describe: 'Map one NIC by MAC: "MAC:network:OUT" or "MAC:bridge:OUT"; repeatable', group: 'Networks:' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print nothing but errors and warnings' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Verbose messages' })
      .option('trace', { alias: 'x', type: 'boolean', describe: 'Trace every external command with its argv (stderr)' })
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
    process.stderr.write(`v2v: error: ${error instanceof Error ? error.message : String(error)}\nRun "v2v --help" for usage.\n`);
    return ExitCode.usage;
  }
  if (parsed['help']) {
    // yargs shows multi-letter options as --os; users type -os, as with virt-v2v.
    process.stdout.write(`${(await parser.getHelp()).replace(/--(o[sfanc]|if)\b/g, ' -$1')}\n`);
    return ExitCode.ok;
  }
  if (parsed['version']) return ExitCode.ok;
  let options;
  try {
    options = normalizeOptions({
      i: parsed['i'] as string | undefined,
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
      verbose: parsed['verbose'] as boolean | undefined,
      trace: parsed['trace'] as boolean | undefined,
      quiet: parsed['quiet'] as boolean | undefined,
    });
  } catch (error) {
    return reportError(error);
  }
  return main(options);
}

process.exitCode = await cli(hideBin(process.argv));
