/**
 * Shell completion as the shell drives it: `v2v --get-yargs-completions v2v
 * WORD...`, in-process through parseCommandLine and cli (the bash script
 * `v2v completion` prints, sourced in a real bash:
 * test/integration/completion.test.ts). The expected words come from the
 * options the parsers declare and the lists v2v's option rules accept; a few
 * are pinned.
 */
import { describe, expect, it, vi } from 'vitest';
import { BATCH_COMMAND } from '../../src/cli/batch/spec.js';
import { buildParser, cli, OPTION_VALUES, parseCommandLine } from '../../src/cli/index.js';
import { spell } from '../../src/cli/messages.js';
import { LIST_COMMAND } from '../../src/cli/list-spec.js';
import { declaredOptions, type SubcommandSpec } from '../../src/cli/subcommand.js';
import { VERIFY_COMMAND } from '../../src/cli/verify-spec.js';
import { VERIFY_MODES } from '../../src/verify/choice.js';
import { INPUT_MODES } from '../../src/input/options.js';
import { OUTPUT_FORMATS, OUTPUT_MODES } from '../../src/output/options.js';

/** What `v2v --get-yargs-completions v2v WORDS...` offers. */
async function offered(...words: string[]): Promise<string[]> {
  const line = await parseCommandLine(['--get-yargs-completions', 'v2v', ...words]);
  if (line.kind !== 'complete') throw new Error(`not a completion: ${JSON.stringify(line)}`);
  return line.words;
}

/** A subcommand's options as typed, from its spec (plus the --version and --help every subcommand has). */
function subcommandOptions(spec: SubcommandSpec): string[] {
  return [...Object.keys(spec.options), 'version', 'help'].map(spell);
}

describe('completion of a single run', () => {
  const declared = declaredOptions(buildParser([]));
  const aliases = new Set(Object.values(declared.alias).flat());
  const keys = Object.keys(declared.key).filter((key) => !aliases.has(key));

  it('offers every option the parser declares, as typed, after "-"', async () => {
    const words = await offered('-');
    expect(new Set(words)).toEqual(new Set([...keys, ...[...aliases].filter((a) => a.length > 1)].map(spell)));
    for (const word of ['-os', '-of', '-ic', '-ip', '--password-file', '--network', '--no-space-check', '--verify'])
      expect(words).toContain(word);
    for (const word of ['--os', '-n', '-q']) expect(words).not.toContain(word);
    expect(await offered('--n')).toEqual(['--no-space-check', '--network', '--no-trim', '--no-log-file']);
  });

  it('offers the subcommand names and the options as the first word', async () => {
    const words = await offered('');
    expect(words.slice(0, 4)).toEqual(['batch', 'list', 'verify', 'completion']);
    expect(words).toEqual(expect.arrayContaining(['-i', '-o', '-os', '--network']));
    expect(await offered('b')).toEqual(['batch']);
    expect(await offered('ver')).toEqual(['verify']);
  });

  it('completes the values v2v accepts after -o, -i, -of and the rest', async () => {
    expect(await offered('-o', '')).toEqual([...OUTPUT_MODES]);
    expect(await offered('-o', '')).toEqual(['local', 'libvirt', 'qemu', 'json', 'kubevirt', 'null']);
    expect(await offered('-i', 'vmx', 'g.vmx', '-o', 'l')).toEqual(['local', 'libvirt']);
    expect(await offered('-i', '')).toEqual([...INPUT_MODES]);
    expect(await offered('-of', '')).toEqual([...OUTPUT_FORMATS]);
    expect(await offered('-of', '')).toContain('qcow2');
    for (const [key, values] of Object.entries(OPTION_VALUES)) {
      if (key === 'verify') continue; // only as --verify=VALUE, below
      expect(await offered('g.vmx', spell(key), '')).toEqual([...values]);
    }
    expect(await offered('-oo', '')).toEqual(['compressed']); // -oo qemu-boot is refused: not offered
  });

  it('completes --verify values only after "=" (a bare --verify takes none), as bash and zsh split it', async () => {
    expect(await offered('--verify', '=', '')).toEqual([...VERIFY_MODES]);
    expect(await offered('--verify', '=', 'b')).toEqual(['boot']);
    expect(await offered('--verify=ch')).toEqual(['--verify=checksum']);
    expect(await offered('--verify', '')).toEqual([]);
  });

  it('offers nothing where a file name goes, so the shell completes file names', async () => {
    for (const words of [
      ['-ip', ''],
      ['-os', ''],
      ['--virtio-win', ''],
      ['--ca-file', 'x'],
      ['-o', 'local', '-os', '/d', ''],
      ['g.vmx', ''],
      ['-o', 'null', 'gu'],
      ['--', '-'],
    ]) {
      expect(await offered(...words), words.join(' ')).toEqual([]);
    }
  });

  it('does not offer an option already given, unless it is repeatable', async () => {
    const words = await offered('-o', 'local', '-n', 'default', '-');
    expect(words).not.toContain('-o');
    expect(words).toContain('-os');
    expect(words).toContain('--network');
  });

  it('prints one word per line, and nothing when there is none', async () => {
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await cli(['--get-yargs-completions', 'v2v', '-o', 'j'])).toBe(0);
      expect(await cli(['--get-yargs-completions', 'v2v', '-ip', ''])).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(printed.join('')).toBe('json\n');
  });
});

describe('completion of the subcommands', () => {
  it.each([BATCH_COMMAND, LIST_COMMAND, VERIFY_COMMAND])('v2v $name - offers its own options', async (spec) => {
    expect(await offered(spec.name, '-')).toEqual(subcommandOptions(spec));
  });

  it('pins the options of each subcommand', async () => {
    expect(await offered('batch', '--')).toEqual(['--jobs', '--log-dir', '--report', '--version', '--help']);
    expect(await offered('list', '-')).toEqual(['-ic', '-ip', '--ca-file', '--json', '--version', '--help']);
    expect(await offered('verify', '--c')).toEqual(['--console-log']);
    expect(await offered('batch', '--')).not.toContain('--network');
  });

  it('completes choices, file names (nothing offered) and the options of a command without files', async () => {
    expect(await offered('verify', '--firmware', '')).toEqual(VERIFY_COMMAND.options['firmware']!.choices);
    expect(await offered('verify', '--firmware', 'u')).toEqual(['uefi']);
    expect(await offered('batch', '')).toEqual([]);
    expect(await offered('batch', '--log-dir', '')).toEqual([]);
    expect(await offered('verify', 'g.xml', '')).toEqual([]);
    expect(await offered('list', '')).toEqual(subcommandOptions(LIST_COMMAND));
    expect(await offered('list', '-ip', '')).toEqual([]); // the password file, though list takes no file argument
    expect(await offered('list', '-ic', 'esx://h', '-')).toEqual(['-ip', '--ca-file', '--json', '--version', '--help']);
  });
});
