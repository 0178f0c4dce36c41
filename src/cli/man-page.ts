/**
 * The man page v2v.1, rendered from the same option declarations as --help
 * (the help text yargs writes), so the two cannot drift:
 * test/unit/man-page.test.ts compares docs/v2v.1 with a fresh rendering
 * (UPDATE_GOLDEN=1 rewrites it).
 */

/** roff-escapes text: backslashes, leading dots/quotes, hyphens of options. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/, '\\&$1')
    .replace(/-/g, '\\-');
}

/** Renders the man page from v2v's --help text. */
export function renderManPage(help: string, version: string): string {
  const out = [
    `.TH V2V 1 "" "v2v ${version}" "User Commands"`,
    '.SH NAME',
    'v2v \\- convert VMware (and other) guests to run on KVM/libvirt',
    '.SH SYNOPSIS',
    '.B v2v',
    '\\-i vmx GUEST.vmx | \\-i disk IMG... | \\-i libvirtxml FILE | \\-i ova OVA|DIR',
    '| \\-ic vpx://...|esx://... \\-ip PASSWORD_FILE VMNAME',
    '\\-o local|libvirt|qemu|json|kubevirt|null [\\-os DIR|POOL] [options]',
    '.br',
    '.B v2v batch',
    'MANIFEST [\\-\\-jobs N] [\\-\\-log\\-dir DIR] [\\-\\-report FILE]',
    '.br',
    '.B v2v list',
    '\\-ic vpx://...|esx://... \\-ip PASSWORD_FILE [\\-\\-ca\\-file FILE] [\\-\\-json]',
    '.br',
    '.B v2v verify',
    'DOMAIN.xml | NAME.yaml | DISK... [\\-\\-firmware bios|uefi] [\\-\\-timeout S] [\\-\\-console\\-log FILE]',
    '.SH DESCRIPTION',
    'Converts a guest in an ordered pipeline (source, overlay, preflight, inspect, convert, trim, copy, verify, output);',
    'everything that can fail is checked before the copy, and the source is never modified.',
    'virt\\-v2v command lines for these modes run unchanged: see docs/virt\\-v2v\\-compat.md.',
  ];
  let section: string | undefined;
  let option: { flags: string; text: string[] } | undefined;
  const flush = (): void => {
    if (option === undefined) return;
    out.push('.TP', `.B ${roff(option.flags)}`, roff(option.text.join(' ').replace(/\s+/g, ' ').trim()));
    option = undefined;
  };
  const lines = help.split('\n');
  const firstSection = lines.findIndex((l) => /^[A-Z][\w ]*:$/.test(l));
  for (const line of lines.slice(firstSection)) {
    if (/^(Examples|Exit codes):$/.test(line)) {
      flush();
      section = line.slice(0, -1);
      out.push(`.SH ${section.toUpperCase()}`, '.nf');
      continue;
    }
    if (section === 'Examples' || section === 'Exit codes') {
      if (line.trim() !== '') out.push(roff(line));
      continue;
    }
    if (/^[A-Z][\w ]*:$/.test(line)) {
      flush();
      out.push(section === undefined ? '.SH OPTIONS' : '', `.SS ${roff(line.slice(0, -1))}`);
      section = line;
      continue;
    }
    const start = /^\s{1,8}(-[^\s,]+(?:, -[^\s,]+)*)\s{2,}(.*)$/.exec(line);
    const text = (s: string): string => s.replace(/\s*\[(string|boolean|array|number)\]\s*$/, '').trim();
    if (start) {
      flush();
      option = { flags: start[1]!, text: [text(start[2]!)] };
    } else if (option !== undefined && line.trim() !== '') {
      option.text.push(text(line));
    }
  }
  flush();
  out.push(
    '.fi',
    '.SH SEE ALSO',
    'virt\\-v2v(1), virsh(1), qemu\\-img(1). README.md, docs/options.md and docs/virt\\-v2v\\-compat.md in the v2v sources.',
    '',
  );
  return out
    .filter((l, i, all) => !(l === '' && all[i - 1] === ''))
    .join('\n')
    .replace(/\n\n\.SS/g, '\n.SS');
}
