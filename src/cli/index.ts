/**
 * Command line: yargs only. Parses argv into raw options, hands them to
 * normalizeOptions and main. yargs declares the options (and writes --help);
 * v2v's own code checks them, so every parser error is one sentence with the
 * fix (src/cli/messages.ts) and virt-v2v spellings are accepted
 * (src/cli/compat.ts, docs/virt-v2v-compat.md).
 *
 * What runs (main.ts and the pipeline, a subcommand's runner) is imported
 * only when it runs: every <TAB> starts a v2v process to ask for words, and
 * --help, -V and parser errors need no more than the declarations either.
 */
import yargs, { type Arguments } from 'yargs';
import { ExitCode } from '../errors.js';
import { reportError } from '../run/report-error.js';
import { normalizeOptions, type RawOptions } from './options.js';
import { DOMAIN_TYPES, OUTPUT_OPTION_NAMES } from './compat.js';
import { ROOT_WORDS } from '../convert/root/option.js';
import { VERIFY_MODES } from '../verify/choice.js';
import { BATCH_COMMAND } from './batch/spec.js';
import { LIST_COMMAND } from './list-spec.js';
import { VERIFY_COMMAND } from './verify-spec.js';
import { capabilities, packageVersion } from './capabilities.js';
import { expandArgv, knownOptionNames, OPTIONAL_VALUE_OPTIONS, unknownOptionError, unknownOptions, yargsFailure } from './messages.js';
import { completeWords, completionTable } from './completion.js';
import { declaredOptions, subcommandArgs, subcommandParser, type SubcommandSpec } from './subcommand.js';
import { checkLocalSources } from '../input/source-paths.js';
import { printOut, safeText } from '../text/safe-text.js';
import { ALLOCATIONS, OUTPUT_FORMATS, OUTPUT_MODES } from '../output/options.js';
import { INPUT_MODES, INPUT_TRANSPORTS } from '../input/options.js';
import { CUTOVER_WORDS } from '../warm/options.js';

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
  v2v -ic 'vpx://...' -ip pw.txt web01 --warm --cutover file:/var/tmp/go -o local -os /var/tmp/out   (copy while it runs)
  v2v -i vmx guest.vmx -o local -os /var/tmp/out --verify     (checksum the copy, boot the result)
  v2v batch guests.json --jobs 2          (many guests; "v2v batch --help")
  v2v verify /var/tmp/out/guest.xml       (boot-check a conversion again; "v2v verify --help")
  virt-v2v options: see docs/virt-v2v-compat.md (same, different, ignored or refused)

Exit codes:
  0    converted
  1    internal error (a bug: please report it)
  2    usage error (bad command line, or a source file on it does not exist)
  3    preflight failure (tools, target, space, name collision): nothing written
  4    source, inspection or conversion failure: nothing written
  5    copy failure (or --verify=checksum found a difference): partial targets removed
  6    v2v batch: one or more guests failed (see its summary and report)
  7    converted but did not boot (--verify=boot, v2v verify): console log named in the error
  130  interrupted by SIGINT/SIGTERM: temporary files and partial targets removed`;

/** The subcommands, by the word after "v2v": their command line, and what runs them once it is parsed (loaded then). */
const SUBCOMMANDS: Readonly<Record<string, { spec: SubcommandSpec; run: (args: Arguments) => Promise<number> }>> = {
  batch: { spec: BATCH_COMMAND, run: async (args) => (await import('./batch/command.js')).batchCli(args) },
  list: { spec: LIST_COMMAND, run: async (args) => (await import('./list.js')).listCli(args) },
  verify: { spec: VERIFY_COMMAND, run: async (args) => (await import('./verify.js')).verifyCli(args) },
};

/** The subcommand a word names (own keys only: "constructor" is a file name, not a subcommand). */
function subcommandNamed(word: string | undefined) {
  return word !== undefined && Object.hasOwn(SUBCOMMANDS, word) ? SUBCOMMANDS[word] : undefined;
}

/**
 * The values the shell completes after an option whose value v2v's own rules
 * check (not yargs' choices, which would replace v2v's messages): the same
 * lists those rules accept.
 */
export const OPTION_VALUES: Readonly<Record<string, readonly string[]>> = {
  i: INPUT_MODES,
  o: OUTPUT_MODES,
  of: OUTPUT_FORMATS,
  oa: ALLOCATIONS,
  it: INPUT_TRANSPORTS,
  oo: OUTPUT_OPTION_NAMES.filter((name) => name !== 'qemu-boot'), // refused: not offered
  'domain-type': DOMAIN_TYPES,
  root: ROOT_WORDS,
  verify: VERIFY_MODES,
  cutover: CUTOVER_WORDS,
};

/** The yargs parser of a single run (declarations only: the checks are ours). */
export function buildParser(argv: string[]) {
  return (
    yargs(argv)
      .scriptName('v2v')
      .usage(
        'Usage: v2v -i vmx GUEST.vmx | -i disk IMG... | -i libvirtxml FILE | -i ova OVA|DIR\n' +
          '           | -ic vpx://...|esx://... -ip PASSWORD_FILE VMNAME\n' +
          '           -o local|libvirt|qemu|json|null [-os DIR|POOL] [options]\n\n' +
          'Convert a VMware (or other) guest to run on KVM/libvirt. The source is never modified.',
      )
      // -os, -of, -on are options of their own, not groups of one-letter flags
      // (bundled -vx is expanded first); --no-trim is virt-v2v's option, not a negation.
      .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': false, 'boolean-negation': false })
      .version(false) // ours prints "v2v X.Y.Z", as virt-v2v does
      .completion('completion', false) // "v2v completion >> ~/.bashrc": yargs' bash/zsh completion
      .option('i', {
        type: 'string',
        requiresArg: true,
        describe: `Input mode: ${INPUT_MODES.join(', ')} (default vmx, or libvirt with -ic; "local" = disk, as in virt-v2v)`,
        group: 'Input:',
      })
      .option('ic', {
        type: 'string',
        requiresArg: true,
        describe:
          "vCenter/ESXi URI for -i libvirt: 'vpx://USER@VCENTER/DC/[CLUSTER/]HOST[?no_verify=1]' or 'esx://USER@ESXI'; the source is then a VM name",
        group: 'Input:',
      })
      .option('if', { type: 'string', describe: 'Format of the -i disk images (default: probed)', group: 'Input:' })
      .option('allow-dir', {
        type: 'string',
        array: true,
        nargs: 1,
        describe:
          "-i vmx: also read the .vmx's disks from inside this directory (e.g. another datastore mounted here); default: only the .vmx's own directory; repeatable",
        group: 'Input:',
      })
      .option('print-source', { type: 'boolean', describe: 'Print the parsed source (JSON) and stop', group: 'Input:' })
      .option('it', {
        type: 'string',
        requiresArg: true,
        describe: 'Input transport: ssh for an ssh://user@host[:port]/path/guest.vmx source',
        group: 'Remote source:',
      })
      .option('ip', {
        alias: 'password-file',
        type: 'string',
        requiresArg: true,
        describe: 'File holding the vSphere (-ic), SSH or HTTPS password (never put it on the command line)',
        group: 'Remote source:',
      })
      .option('bandwidth', {
        type: 'string',
        requiresArg: true,
        describe: 'Limit reads of a remote source to this many bits/s (e.g. 10M)',
        group: 'Remote source:',
      })
      .option('bandwidth-file', {
        type: 'string',
        requiresArg: true,
        describe: 'Limit remote reads to the bits/s written in this file, re-read while running',
        group: 'Remote source:',
      })
      .option('ssh-identity', { type: 'string', describe: 'SSH private key file (default: your default keys)', group: 'Remote source:' })
      .option('known-hosts', {
        type: 'string',
        describe: 'known_hosts file verifying the SSH host key (default ~/.ssh/known_hosts)',
        group: 'Remote source:',
      })
      .option('ssh-fingerprint', {
        type: 'string',
        describe: 'Trust the SSH host key with this fingerprint (SHA256:..., from "ssh-keygen -lf")',
        group: 'Remote source:',
      })
      .option('ca-file', {
        type: 'string',
        describe: 'CA certificate(s) verifying an https:// or vSphere (-ic) source',
        group: 'Remote source:',
      })
      .option('insecure', {
        type: 'boolean',
        describe: 'Do not verify the https:// certificate (unsafe: explicit opt-out)',
        group: 'Remote source:',
      })
      .option('warm', {
        type: 'boolean',
        describe: 'Warm migration of a running vSphere VM (-ic): pre-copy its disks while it runs, then shut it down and copy what changed',
        group: 'Warm migration:',
      })
      .option('precopy-dir', {
        type: 'string',
        requiresArg: true,
        describe: 'Where the pre-copy and its state live until the cut-over (default: -os DIR for -o local, qemu, json, kubevirt)',
        group: 'Warm migration:',
      })
      .option('precopy-interval', {
        type: 'string',
        requiresArg: true,
        describe: 'Time between pre-copy passes while waiting for the cut-over, e.g. 30m (default 1h)',
        group: 'Warm migration:',
      })
      .option('cutover', {
        type: 'string',
        requiresArg: true,
        describe:
          'When to shut the VM down and convert: now (default: after one pass), never (passes only), HH:MM or YYYY-MM-DDTHH:MM, or file:PATH (when it exists); SIGUSR1 cuts over at once',
        group: 'Warm migration:',
      })
      .option('shutdown-timeout', {
        type: 'string',
        requiresArg: true,
        describe: 'How long the guest may take to shut down (default 10m)',
        group: 'Warm migration:',
      })
      .option('power-off-fallback', {
        type: 'boolean',
        describe: 'Power the VM off when its guest cannot be shut down (no VMware Tools, timeout)',
        group: 'Warm migration:',
      })
      .option('enable-cbt', {
        type: 'boolean',
        describe: 'Turn Changed Block Tracking on when it is off (reconfigures the VM)',
        group: 'Warm migration:',
      })
      .option('quiesce', {
        type: 'boolean',
        describe: 'Quiesce the guest (VMware Tools) for each pre-copy snapshot',
        group: 'Warm migration:',
      })
      .option('o', {
        type: 'string',
        requiresArg: true,
        describe: `Output mode: ${OUTPUT_MODES.join(', ')} ("disk" = local, as in virt-v2v)`,
        group: 'Output:',
      })
      .option('oc', { type: 'string', describe: 'libvirt URI for -o libvirt (default qemu:///system)', group: 'Output:' })
      .option('os', {
        type: 'string',
        describe: 'Output storage: a directory (local, qemu, json, kubevirt) or a libvirt pool (default "default")',
        group: 'Output:',
      })
      .option('of', { type: 'string', requiresArg: true, describe: 'Output disk format: raw or qcow2 (default raw)', group: 'Output:' })
      .option('oa', {
        type: 'string',
        requiresArg: true,
        describe: 'Output allocation: sparse or preallocated (default sparse)',
        group: 'Output:',
      })
      .option('oo', {
        type: 'string',
        array: true,
        nargs: 1,
        describe: 'Output option: compressed (-of qcow2), qemu-boot (refused: run the written script); repeatable',
        group: 'Output:',
      })
      .option('compressed', { type: 'boolean', describe: 'Compressed qcow2 output (= -oo compressed; needs -of qcow2)', group: 'Output:' })
      .option('qemu-boot', {
        type: 'boolean',
        describe: '(= -oo qemu-boot) refused: run the -o qemu script DIR/NAME.sh yourself',
        group: 'Output:',
      })
      .option('domain-type', {
        type: 'string',
        requiresArg: true,
        describe: 'Domain type written: kvm (default for -o local, qemu, json) or qemu (emulated); -o libvirt: by the target host',
        group: 'Output:',
      })
      .option('no-space-check', {
        type: 'boolean',
        describe: 'Skip the target free-space check (thin-provisioned storage)',
        group: 'Output:',
      })
      .option('on', { type: 'string', describe: 'Rename the guest on output', group: 'Output:' })
      .option('network', {
        alias: 'n',
        type: 'string',
        array: true,
        nargs: 1,
        describe: 'Map source network IN to libvirt network OUT ("IN:OUT", or "OUT" for all); repeatable',
        group: 'Networks:',
      })
      .option('bridge', {
        alias: 'b',
        type: 'string',
        array: true,
        nargs: 1,
        describe: 'Map source network IN to host bridge OUT ("IN:OUT" or "OUT"); repeatable',
        group: 'Networks:',
      })
      .option('mac', {
        type: 'string',
        array: true,
        nargs: 1,
        describe:
          'Map one NIC by MAC: "MAC:network:OUT" or "MAC:bridge:OUT"; or give it a static IP: "MAC:ip:ADDR[,GW[,PREFIX[,DNS...]]]"; repeatable',
        group: 'Networks:',
      })
      .option('root', {
        type: 'string',
        describe:
          'Multi-boot guests: which root to convert: single (default: refuse multi-boot), first, ask, or a device such as /dev/sda2',
        group: 'Conversion:',
      })
      .option('virtio-win', {
        type: 'string',
        describe:
          'Windows guests: virtio-win drivers, a directory laid out like the virtio-win ISO or the ISO itself (default: $VIRTIO_WIN, else /usr/share/virtio-win)',
        group: 'Conversion:',
      })
      .option('key', {
        type: 'string',
        array: true,
        nargs: 1,
        describe: 'LUKS key for an encrypted volume (not supported yet: refused)',
        group: 'Conversion:',
      })
      .option('verify', {
        type: 'string',
        describe:
          'After the copy: checksum (compare each target with the converted image), boot (boot it with no network), both when bare; default none',
        group: 'Conversion:',
      })
      .option('no-trim', { type: 'string', requiresArg: true, describe: 'Ignored, with a warning (as virt-v2v)', group: 'Conversion:' })
      .option('vmtype', { type: 'string', requiresArg: true, describe: 'Ignored, with a warning (as virt-v2v)', group: 'Conversion:' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Print nothing but errors and warnings' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Verbose messages' })
      .option('trace', { alias: 'x', type: 'boolean', describe: 'Trace every external command with its argv (stderr)' })
      .option('log-file', {
        type: 'string',
        requiresArg: true,
        describe:
          "Write the run's log (the piped output plus every command and what it printed) to this new file; default: NAME-v2v-DATE-TIME.log in the output directory (-o libvirt, null: /var/log/v2v, or ~/.local/state/v2v when not root)",
      })
      .option('no-log-file', { type: 'boolean', describe: 'Write no log file' })
      .option('machine-readable', {
        type: 'string',
        describe: 'JSON-lines progress events on stdout, or =file:FILE or =fd:N; alone, list capabilities',
      })
      .option('colors', {
        alias: ['color', 'colour', 'colours'],
        type: 'boolean',
        describe: 'Accepted for virt-v2v compatibility; does nothing',
      })
      .option('wrap', { type: 'boolean', describe: 'Accepted for virt-v2v compatibility; does nothing' })
      .option('version', { alias: 'V', type: 'boolean', describe: 'Print "v2v VERSION" and exit' })
      .help(false)
      .option('help', { alias: 'h', type: 'boolean', describe: 'Show this help' })
      .epilog(EPILOG)
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
  );
}

/** What the command line asks for: print a text and stop, or run with raw options. */
export type CommandLine =
  { kind: 'print'; text: string } | { kind: 'complete'; words: string[] } | { kind: 'done' } | { kind: 'run'; raw: RawOptions };

/**
 * The words the shell offers for the last of `words` (the command line after
 * "v2v", as the completion script passes it): a subcommand's options after its
 * name, else a single run's options and the subcommand names.
 */
export function completeCommandLine(words: readonly string[]): string[] {
  const subcommand = subcommandNamed(words[0]);
  if (subcommand !== undefined && words.length > 1) {
    const { spec } = subcommand;
    return completeWords(
      completionTable({ declared: declaredOptions(subcommandParser(spec, [])), takesFiles: spec.positional !== undefined }),
      words.slice(1),
    );
  }
  return completeWords(
    completionTable({
      declared: declaredOptions(buildParser([])),
      values: OPTION_VALUES,
      equalsOnly: OPTIONAL_VALUE_OPTIONS,
      commands: [...Object.keys(SUBCOMMANDS), 'completion'],
      takesFiles: true,
    }),
    words,
  );
}

/**
 * Parses argv (after "v2v") into raw options, or a text to print (--help,
 * -V, capabilities). Throws UsageError with one sentence naming the fix:
 * unknown options and missing values get v2v's own messages, not yargs'.
 */
export async function parseCommandLine(argv: string[]): Promise<CommandLine> {
  // The completion script runs "v2v --get-yargs-completions v2v WORD...".
  if (argv[0] === '--get-yargs-completions') return { kind: 'complete', words: completeCommandLine(argv.slice(2)) };
  const parser = buildParser(expandArgv(argv));
  if (argv[0] === 'completion') {
    await parser.parseAsync(); // yargs prints the script
    return { kind: 'done' };
  }
  let parsed;
  try {
    parsed = await parser.parseAsync();
  } catch (error) {
    throw yargsFailure(error instanceof Error ? error.message : String(error));
  }
  const declared = declaredOptions(parser);
  const unknown = unknownOptions(parsed, declared);
  if (unknown.length > 0) throw unknownOptionError(unknown[0]!, knownOptionNames(declared));
  if (parsed['help']) {
    // yargs shows multi-letter options as --os; users type -os, as with virt-v2v.
    return { kind: 'print', text: (await parser.getHelp()).replace(/--(o[sfanco]|i[ftpc])\b/g, ' -$1') };
  }
  if (parsed['version']) return { kind: 'print', text: `v2v ${packageVersion()}` };
  if (parsed['machine-readable'] === '' && parsed._.length === 0) return { kind: 'print', text: capabilities().join('\n') };
  return {
    kind: 'run',
    raw: {
      i: parsed['i'],
      ic: parsed['ic'],
      if: parsed['if'],
      o: parsed['o'],
      oc: parsed['oc'],
      os: parsed['os'],
      of: parsed['of'],
      oa: parsed['oa'],
      on: parsed['on'],
      network: parsed['network'],
      bridge: parsed['bridge'],
      mac: parsed['mac'],
      printSource: parsed['print-source'],
      positional: parsed._.map(String),
      allowDir: parsed['allow-dir'],
      remote: {
        it: parsed['it'],
        ip: parsed['ip'],
        sshIdentity: parsed['ssh-identity'],
        knownHosts: parsed['known-hosts'],
        sshFingerprint: parsed['ssh-fingerprint'],
        caFile: parsed['ca-file'],
        insecure: parsed['insecure'],
      },
      compat: {
        oo: parsed['oo'],
        compressed: parsed['compressed'],
        qemuBoot: parsed['qemu-boot'],
        noTrim: parsed['no-trim'],
        vmtype: parsed['vmtype'],
        bandwidth: parsed['bandwidth'],
        bandwidthFile: parsed['bandwidth-file'],
        noSpaceCheck: parsed['no-space-check'],
        domainType: parsed['domain-type'],
      },
      verbose: parsed['verbose'],
      trace: parsed['trace'],
      quiet: parsed['quiet'],
      machineReadable: parsed['machine-readable'],
      root: parsed['root'],
      key: parsed['key'],
      virtioWin: parsed['virtio-win'],
      verify: parsed['verify'],
      logFile: parsed['log-file'],
      noLogFile: parsed['no-log-file'],
      warm: {
        warm: parsed['warm'],
        precopyDir: parsed['precopy-dir'],
        precopyInterval: parsed['precopy-interval'],
        cutover: parsed['cutover'],
        shutdownTimeout: parsed['shutdown-timeout'],
        powerOffFallback: parsed['power-off-fallback'],
        enableCbt: parsed['enable-cbt'],
        quiesce: parsed['quiesce'],
      },
    },
  };
}

/** Parses argv and runs; resolves to the exit code. */
export async function cli(argv: string[]): Promise<number> {
  const subcommand = subcommandNamed(argv[0]);
  if (subcommand !== undefined) {
    const args = await subcommandArgs(subcommand.spec, argv.slice(1));
    return typeof args === 'number' ? args : subcommand.run(args);
  }
  let options;
  try {
    const line = await parseCommandLine(argv);
    if (line.kind === 'print') printOut(line.text);
    if (line.kind === 'complete' && line.words.length > 0) printOut(line.words.map((word) => safeText(word)).join('\n'));
    if (line.kind !== 'run') return ExitCode.ok;
    options = normalizeOptions(line.raw);
    await checkLocalSources(options.input);
  } catch (error) {
    return reportError(error);
  }
  const { main } = await import('../run/main.js');
  return main(options);
}
