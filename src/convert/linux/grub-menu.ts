/**
 * Finding a kernel's entry in a generated grub.cfg, so it can be made the
 * default with `grub2-set-default` where there is neither grubby nor BLS
 * (SUSE). Pure text parsing: grub2-mkconfig's output has one `menuentry` or
 * `submenu` per line, with `$menuentry_id_option 'ID'`, and `}` on its own line.
 */

/** Where a kernel's menu entry sits in grub.cfg. */
export interface GrubMenuEntry {
  /** What `grub2-set-default` (saved_entry) takes: ids (or titles) joined with '>' through submenus. */
  path: string;
  /** Whether it is the first top-level entry, i.e. what grub boots with `default=0`. */
  first: boolean;
}

const ENTRY_RE = /^\s*(menuentry|submenu)\s+(?:'([^']*)'|"([^"]*)")(.*)\{\s*$/;
const ID_RE = /\$menuentry_id_option\s+(?:'([^']*)'|"([^"]*)")/;

/**
 * The menu entry that boots `/boot/vmlinuz-VERSION` (or `/vmlinuz-VERSION`
 * with a separate /boot), skipping recovery entries; undefined when none does.
 */
export function findGrubMenuEntry(grubCfg: string, version: string): GrubMenuEntry | undefined {
  // Open blocks, innermost last: menu entries and submenus, or null for if/function blocks.
  const stack: Array<{ key: string; recovery: boolean; kind: string; topOrdinal: number } | null> = [];
  let topLevel = 0;
  const linuxRe = new RegExp(`^\\s*linux(?:efi|16)?\\s+(?:\\(\\S*\\))?(?:/boot)?/vmlinuz-${escapeRegExp(version)}(?:\\s|$)`);
  for (const line of grubCfg.split('\n')) {
    const entry = ENTRY_RE.exec(line);
    if (entry) {
      const title = entry[2] ?? entry[3] ?? '';
      const id = ID_RE.exec(entry[4] ?? '');
      const nested = stack.some((s) => s !== null);
      stack.push({
        key: id?.[1] ?? id?.[2] ?? title,
        recovery: /recovery mode|rescue/i.test(title),
        kind: entry[1] ?? '',
        topOrdinal: nested ? -1 : topLevel++,
      });
    } else if (/\{\s*$/.test(line)) {
      stack.push(null);
    } else if (/^\s*\}\s*$/.test(line)) {
      stack.pop();
    } else if (linuxRe.test(line)) {
      const entries = stack.filter((s): s is NonNullable<typeof s> => s !== null);
      const innermost = entries[entries.length - 1];
      if (!innermost || innermost.kind !== 'menuentry' || innermost.recovery) continue;
      return { path: entries.map((e) => e.key).join('>'), first: innermost.topOrdinal === 0 };
    }
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
