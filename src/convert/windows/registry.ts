/**
 * Registry edits as data: which keys and values to set, turned into the
 * regedit text `hivexregedit --merge` applies, and the parser for the text
 * `hivexregedit --export` prints. Pure functions.
 *
 * Why .reg text and not libguestfs' hivex-node-set-value: through guestfish
 * (the only libguestfs front end we drive) a value is a command-line word,
 * so it cannot hold a NUL byte, and every REG_DWORD and UTF-16 string does
 * (measured: guestfish rejects "\x00" escapes). hivexregedit uses the same
 * hivex library on a copy of the hive that libguestfs downloads and uploads.
 */

/** A registry value to set. */
export type RegValue = { type: 'sz'; data: string } | { type: 'expand_sz'; data: string } | { type: 'dword'; data: number };

/** A key (path relative to the hive root, `\`-separated) and the values to set in it. */
export interface RegKey {
  path: string;
  values: Record<string, RegValue>;
}

/** `"text"` with regedit escapes (backslash and double quote). */
function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** UTF-16LE bytes with the terminating NUL, as `hex(N):xx,xx,...`. */
function utf16Hex(type: number, text: string): string {
  const bytes = Buffer.from(`${text}\0`, 'utf16le');
  return `hex(${type}):${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(',')}`;
}

/** One `"name"=data` line. */
export function regValueLine(name: string, value: RegValue): string {
  switch (value.type) {
    case 'sz':
      return `${quoted(name)}=${utf16Hex(1, value.data)}`;
    case 'expand_sz':
      return `${quoted(name)}=${utf16Hex(2, value.data)}`;
    case 'dword':
      if (!Number.isInteger(value.data) || value.data < 0 || value.data > 0xffffffff)
        throw new Error(`internal: bad REG_DWORD ${value.data}`);
      return `${quoted(name)}=dword:${value.data.toString(16).padStart(8, '0')}`;
  }
}

/**
 * The .reg text merging `keys` into the hive mounted at `prefix` (e.g.
 * `HKEY_LOCAL_MACHINE\SYSTEM`). Every ancestor key is listed (with no values)
 * before its children: hivexregedit creates a key only under an existing
 * parent, and a key listed without values keeps the values it has.
 */
export function buildRegFile(prefix: string, keys: readonly RegKey[]): string {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  const listed = new Set<string>();
  for (const key of keys) {
    const parts = key.path.split('\\').filter((p) => p !== '');
    for (let depth = 1; depth <= parts.length; depth++) {
      const path = parts.slice(0, depth).join('\\');
      const last = depth === parts.length;
      if (!last && listed.has(path.toLowerCase())) continue;
      listed.add(path.toLowerCase());
      lines.push(`[${prefix}\\${path}]`);
      if (last) for (const [name, value] of Object.entries(key.values)) lines.push(regValueLine(name, value));
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** Values of one exported key, by lower-cased name: the type code and decoded data. */
export type ExportedValues = Map<string, { name: string; type: number; text?: string; dword?: number }>;

/**
 * Parses `hivexregedit --export` output into key path (relative to the
 * prefix, lower-cased) → values. Strings (types 1, 2 and 7, exported as
 * `hex(N):` UTF-16LE bytes or as quoted text) are decoded; multi-strings
 * are joined with newlines.
 */
export function parseRegExport(text: string, prefix: string): Map<string, ExportedValues> {
  const keys = new Map<string, ExportedValues>();
  let current: ExportedValues | undefined;
  // Long hex values wrap with a trailing backslash.
  const lines = text
    .replace(/\r/g, '')
    .replace(/\\\n\s*/g, '')
    .split('\n');
  const prefixLower = prefix.toLowerCase();
  for (const line of lines) {
    const key = /^\[(.*)\]$/.exec(line);
    if (key?.[1] !== undefined) {
      let path = key[1];
      if (path.toLowerCase().startsWith(prefixLower)) path = path.slice(prefix.length);
      current = new Map();
      keys.set(path.replace(/^\\+|\\+$/g, '').toLowerCase(), current);
      continue;
    }
    const value = /^(?:"((?:[^"\\]|\\.)*)"|@)=(.*)$/.exec(line);
    if (!value || current === undefined) continue;
    const name = (value[1] ?? '').replace(/\\(.)/g, '$1');
    const data = value[2] ?? '';
    current.set(name.toLowerCase(), { name, ...decodeRegData(data) });
  }
  return keys;
}

/** Decodes one exported value's data. */
function decodeRegData(data: string): { type: number; text?: string; dword?: number } {
  const str = /^"((?:[^"\\]|\\.)*)"$/.exec(data);
  if (str) return { type: 1, text: (str[1] ?? '').replace(/\\(.)/g, '$1') };
  const dword = /^dword:([0-9a-f]{8})$/i.exec(data);
  if (dword?.[1]) return { type: 4, dword: parseInt(dword[1], 16) };
  const hex = /^hex(?:\(([0-9a-f]+)\))?:(.*)$/i.exec(data);
  if (hex) {
    const type = hex[1] === undefined ? 3 : parseInt(hex[1], 16);
    const bytes = Buffer.from(
      (hex[2] ?? '')
        .split(',')
        .filter((b) => b !== '')
        .map((b) => parseInt(b, 16)),
    );
    if (type === 1 || type === 2 || type === 7) {
      const text = bytes.toString('utf16le').replace(/\0+$/, '').replace(/\0/g, '\n');
      return { type, text };
    }
    return { type };
  }
  return { type: -1 };
}

/**
 * Appends `dir` to a DevicePath value (`;`-separated directories Windows
 * searches for drivers), unless it is already there (compared without case).
 */
export function appendDevicePath(current: string | undefined, dir: string): string {
  const entries = (current ?? '').split(';').filter((e) => e !== '');
  if (entries.some((e) => e.toLowerCase() === dir.toLowerCase())) return entries.join(';');
  return [...entries, dir].join(';');
}
