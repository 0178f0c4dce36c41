/**
 * The VMX tokenizer: turns the text of a VMware `.vmx` file into a map of
 * settings, and answers lookups with VMware's `present = "FALSE"` rule.
 * Pure: no file system access.
 */

import { SourceError } from '../../errors.js';

/** One `key = "value"` setting of a VMX file. */
export interface VmxEntry {
  /** The key as spelled in the file, kept for messages. */
  key: string;
  /** The value with `|XX` escapes decoded. */
  value: string;
  /** 1-based line number in the file. */
  line: number;
}

/** A tokenized VMX file: settings by lower-case key, plus non-fatal remarks. */
export interface VmxFile {
  /** Settings keyed by lower-case key (VMX keys are case-insensitive). */
  entries: ReadonlyMap<string, VmxEntry>;
  /** Value of the `.encoding` line, when there is one. */
  encoding?: string;
  /** Malformed lines, duplicate keys and bad escapes, with line numbers. */
  warnings: string[];
}

/** A key is anything without blanks, quotes, `=` or `#` (`acpi.smbiosVersion2.7`, `scsi0:1.fileName`). */
const KEY_RE = /^[^\s="#]+$/;
const HEX_PAIR_RE = /^[0-9A-Fa-f]{2}$/;

/** Tokenizes VMX text; throws SourceError only when no line at all is a setting. */
export function parseVmxText(text: string, fileName = 'the VMX file'): VmxFile {
  const entries = new Map<string, VmxEntry>();
  const warnings: string[] = [];
  let encoding: string | undefined;

  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const where = `line ${lineNo} of ${fileName}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;

    const parsed = splitSetting(line);
    if ('problem' in parsed) {
      warnings.push(`${where} ${parsed.problem}, so it is ignored: ${excerpt(line)}`);
      return;
    }
    if (parsed.trailing) {
      warnings.push(`${where} has text after the closing quote, which is ignored: ${excerpt(line)}`);
    }
    const decoded = decodeEscapes(parsed.rawValue);
    if (decoded.problem) warnings.push(`${where} ${decoded.problem}`);

    const lower = parsed.key.toLowerCase();
    // `.encoding` describes the file, not the VM; the caller decoded the text already.
    if (lower === '.encoding') {
      encoding = decoded.value;
      if (!/^utf-?8$/i.test(decoded.value)) {
        warnings.push(`${fileName} declares encoding "${decoded.value}" but was read as UTF-8, so non-ASCII names may be wrong`);
      }
      return;
    }
    const previous = entries.get(lower);
    if (previous) {
      warnings.push(`${where} sets ${parsed.key} again (first set on line ${previous.line}); the last value "${decoded.value}" is used`);
    }
    entries.set(lower, { key: parsed.key, value: decoded.value, line: lineNo });
  });

  if (entries.size === 0) {
    throw new SourceError(`${fileName} contains no key = "value" settings; check that the path names a VMware .vmx file.`);
  }
  return encoding === undefined ? { entries, warnings } : { entries, encoding, warnings };
}

/** Splits one trimmed, non-comment line into key and undecoded value. */
function splitSetting(line: string): { key: string; rawValue: string; trailing: boolean } | { problem: string } {
  const eq = line.indexOf('=');
  if (eq < 0) return { problem: 'has no "="' };
  const key = line.slice(0, eq).trim();
  if (!KEY_RE.test(key)) return { problem: 'has no valid key before "="' };
  const rest = line.slice(eq + 1).trimStart();

  if (rest.startsWith('"')) {
    // VMware never writes a raw quote inside a value (it escapes it as |22), so the next quote closes it.
    const close = rest.indexOf('"', 1);
    if (close < 0) return { problem: 'has no closing quote' };
    const after = rest.slice(close + 1).trim();
    return { key, rawValue: rest.slice(1, close), trailing: after !== '' && !after.startsWith('#') };
  }
  // Unquoted values (hand-edited files): a `#` after a blank starts a comment.
  const comment = rest.startsWith('#') ? 0 : rest.search(/\s#/);
  const rawValue = (comment >= 0 ? rest.slice(0, comment) : rest).trim();
  if (rawValue === '') return { problem: 'has no value after "="' };
  return { key, rawValue, trailing: false };
}

/** Decodes `|XX` escapes: the escaped bytes and the plain text together form UTF-8. */
function decodeEscapes(raw: string): { value: string; problem?: string } {
  if (!raw.includes('|')) return { value: raw };
  const encoder = new TextEncoder();
  const bytes: number[] = [];
  let stray = false;
  for (let i = 0; i < raw.length;) {
    const hex = raw.slice(i + 1, i + 3);
    if (raw[i] === '|' && HEX_PAIR_RE.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
      continue;
    }
    if (raw[i] === '|') stray = true;
    const ch = String.fromCodePoint(raw.codePointAt(i) ?? 0xfffd);
    bytes.push(...encoder.encode(ch));
    i += ch.length;
  }
  const data = Uint8Array.from(bytes);
  try {
    const value = new TextDecoder('utf-8', { fatal: true }).decode(data);
    return stray ? { value, problem: 'has a "|" not followed by two hex digits; it is kept as is' } : { value };
  } catch {
    return {
      value: new TextDecoder('utf-8').decode(data),
      problem: 'has |XX escapes that are not valid UTF-8; they were replaced by U+FFFD',
    };
  }
}

/** Shortens a line for a warning. */
function excerpt(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** VMX booleans: TRUE, true, yes and 1 are true (any case); everything else is false. */
export function parseVmxBool(value: string | undefined): boolean {
  return value !== undefined && /^(true|yes|1)$/i.test(value.trim());
}

/**
 * Namespaces that can hide `key`: every dot prefix, and for a device key like
 * `scsi0:1.fileName` also its controller `scsi0`, so `scsi0.present = "FALSE"`
 * hides the disks on it as well.
 */
function namespacesOf(key: string): string[] {
  const parts = key.toLowerCase().split('.');
  const result: string[] = [];
  const first = parts[0] ?? '';
  const colon = first.indexOf(':');
  if (colon > 0) result.push(first.slice(0, colon));
  for (let n = 1; n < parts.length; n++) result.push(parts.slice(0, n).join('.'));
  return result;
}

/** True when `key` sits in a namespace switched off by `ns.present = "FALSE"`. */
export function isVmxHidden(vmx: VmxFile, key: string): boolean {
  return namespacesOf(key).some((ns) => {
    const present = vmx.entries.get(`${ns}.present`);
    return present !== undefined && !parseVmxBool(present.value);
  });
}

/** True when the namespace `ns` (e.g. "scsi0:1", "ethernet0") is switched off. */
export function isVmxNamespaceHidden(vmx: VmxFile, ns: string): boolean {
  return isVmxHidden(vmx, `${ns}.present`);
}

/** The entry for `key` (any case), or undefined when absent or hidden by present = FALSE. */
export function vmxEntry(vmx: VmxFile, key: string): VmxEntry | undefined {
  return isVmxHidden(vmx, key) ? undefined : vmx.entries.get(key.toLowerCase());
}

/** The value for `key` (any case), or undefined when absent or hidden by present = FALSE. */
export function vmxGet(vmx: VmxFile, key: string): string | undefined {
  return vmxEntry(vmx, key)?.value;
}
