/**
 * The subcommands' command lines (`v2v batch`, `v2v list`, `v2v verify`),
 * built by one factory from their specs: what they parse, --help and
 * --version, and their parser errors as one sentence with the fix. Runs the
 * real yargs parsers; nothing is converted, listed or booted.
 */
import { describe, expect, it } from 'vitest';
import { BATCH_COMMAND } from '../../src/cli/batch/spec.js';
import { UsageError } from '../../src/errors.js';
import { LIST_COMMAND } from '../../src/cli/list-spec.js';
import { packageVersion } from '../../src/cli/capabilities.js';
import { parseSubcommand, type SubcommandSpec } from '../../src/cli/subcommand.js';
import { VERIFY_COMMAND } from '../../src/cli/verify-spec.js';

async function args(spec: SubcommandSpec, ...argv: string[]): Promise<Record<string, unknown>> {
  const line = await parseSubcommand(spec, argv);
  if (line.kind !== 'run') throw new Error(`not a run: ${JSON.stringify(line)}`);
  return line.args;
}

async function usageError(spec: SubcommandSpec, ...argv: string[]): Promise<string> {
  const error = await parseSubcommand(spec, argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).not.toMatch(/\n/);
  return (error as Error).message;
}

describe('subcommand command lines', () => {
  it('parse their options and positional arguments', async () => {
    const batch = await args(BATCH_COMMAND, 'guests.json', '--jobs', '2', '--log-dir', 'logs');
    expect([batch['manifest'], batch['jobs'], batch['log-dir']]).toEqual(['guests.json', 2, 'logs']);
    expect((await args(BATCH_COMMAND, '-j2', 'g.yaml'))['jobs']).toBe(2);
    expect((await args(BATCH_COMMAND, 'g.yaml'))['jobs']).toBe(1);
    const list = await args(LIST_COMMAND, '-ic', 'esx://root@esxi', '-ip', 'pw', '--json');
    expect([list['ic'], list['ip'], list['json']]).toEqual(['esx://root@esxi', 'pw', true]);
    const verify = await args(VERIFY_COMMAND, 'a.qcow2', 'b.qcow2', '--firmware', 'uefi', '--timeout', '30');
    expect([verify['paths'], verify['firmware'], verify['timeout']]).toEqual([['a.qcow2', 'b.qcow2'], 'uefi', 30]);
  });

  it('print their help (multi-letter options with one dash) and "v2v VERSION"', async () => {
    for (const spec of [BATCH_COMMAND, LIST_COMMAND, VERIFY_COMMAND]) {
      for (const flag of ['--help', '-h']) {
        const line = await parseSubcommand(spec, [flag]);
        expect(line.kind).toBe('print');
        expect(line.kind === 'print' && line.text).toContain(`Usage: v2v ${spec.name}`);
      }
      for (const flag of ['--version', '-V'])
        expect(await parseSubcommand(spec, [flag])).toEqual({ kind: 'print', text: `v2v ${packageVersion()}` });
    }
    const list = await parseSubcommand(LIST_COMMAND, ['--help']);
    expect(list.kind === 'print' && list.text).toMatch(/^ +-ic +vpx:\/\//m);
  });

  const specs: Record<string, SubcommandSpec> = { batch: BATCH_COMMAND, list: LIST_COMMAND, verify: VERIFY_COMMAND };
  it.each<[string, string[], string]>([
    ['batch', ['--jobz', '2', 'g.json'], 'Unknown option --jobz: did you mean --jobs? (see "v2v batch --help")'],
    ['batch', ['--frobnicate', 'g.json'], 'Unknown option --frobnicate: remove it (see "v2v batch --help" for the options).'],
    ['batch', [], 'No manifest given: pass the JSON or YAML file listing the guests, e.g. "v2v batch guests.json".'],
    ['batch', ['a.json', 'b.json', 'c.json'], 'Unexpected arguments "b.json", "c.json": remove them (see "v2v batch --help").'],
    ['list', ['--jsn'], 'Unknown option --jsn: did you mean --json? (see "v2v list --help")'],
    ['list', ['-icc', 'esx://h'], 'Unknown option --icc: did you mean -ic? (see "v2v list --help")'],
    ['list', ['vpx://root:secret@vc/DC'], 'Unexpected argument "vpx://root:***@vc/DC": remove it (see "v2v list --help").'],
    // A virt-v2v option refused for a conversion is only unknown here.
    ['list', ['--vddk-thumbprint', 'x'], 'Unknown option --vddk-thumbprint: remove it (see "v2v list --help" for the options).'],
    ['verify', [], 'No guest given: pass a domain XML or the disk images, e.g. "v2v verify /var/tmp/out/guest.xml".'],
    // The unknown option is reported, not the disk it swallowed.
    ['verify', ['--frimware', 'x.img'], 'Unknown option --frimware: did you mean --firmware? (see "v2v verify --help")'],
    ['verify', ['--firmware', 'efi', 'x.img'], 'Unknown "--firmware efi": did you mean "--firmware uefi"? use bios or uefi.'],
    ['verify', ['--firmware=coreboot', 'x.img'], 'Unknown "--firmware coreboot": use bios or uefi.'],
  ])('v2v %s %j', async (name, argv, message) => {
    expect(await usageError(specs[name]!, ...argv)).toBe(message);
  });

  it('leave a negative number to the option that takes it (its own check refuses it)', async () => {
    expect((await args(VERIFY_COMMAND, '--timeout', '-5', 'x.img'))['timeout']).toBe(-5);
  });
});
