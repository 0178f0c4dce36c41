/**
 * What v2v shows of any text: nothing a source, a guest or another program
 * says can drive the terminal (docs/safety.md, "Nothing a source says reaches
 * the terminal raw"). {@link safeText} is the one sanitiser; every
 * human-readable line goes through it at its sink:
 * - {@link printOut} / {@link printErr}, the only writers of process.stdout
 *   and process.stderr (eslint's no-restricted-properties enforces it);
 * - the task renderers (src/progress/safe-renderers.ts), before listr2 adds
 *   its own colours;
 * - the run's log file (src/progress/run-log.ts).
 * JSON for programs is {@link jsonText}: the original strings, escaped by JSON.
 */

/**
 * Characters never written raw: C0 controls but tab, DEL, C1 controls, the
 * Unicode line and paragraph separators, the bidirectional formatting
 * characters (they reorder what a line shows) and lone surrogates (not
 * encodable as UTF-8). Newline is matched here; {@link safeText} keeps it
 * when asked to.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The same without newline. */
const UNSAFE_BUT_NEWLINE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** What JSON.stringify leaves raw but a terminal may act on (JSON escapes C0 and lone surrogates itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}

/** `\n`, `\r`; `\xNN` for the rest of C0 and DEL; `\uNNNN` for C1 and the other code units. */
function escapeUnit(char: string): string {
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  const code = char.charCodeAt(0);
  return code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
}

/**
 * The valid UTF-8 sequence starting at `bytes[i]` (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF): its code point and length,
 * or undefined for a byte that starts none.
 */
export function utf8SequenceAt(bytes: Uint8Array, i: number): { code: number; length: number } | undefined {
  const b = bytes[i];
  if (b === undefined) return undefined;
  if (b < 0x80) return { code: b, length: 1 };
  const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (length === 0 || i + length > bytes.length) return undefined;
  let code = length === 2 ? b & 0x1f : length === 3 ? b & 0x0f : b & 0x07;
  for (let k = 1; k < length; k++) {
    const c = bytes[i + k]!;
    if ((c & 0xc0) !== 0x80) return undefined;
    code = (code << 6) | (c & 0x3f);
  }
  if (length === 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) return undefined;
  if (length === 4 && (code < 0x10000 || code > 0x10ffff)) return undefined;
  return { code, length };
}

/** Decodes UTF-8 bytes, showing each byte that starts no valid sequence as `\xNN`. */
function decodeShowingInvalid(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const sequence = utf8SequenceAt(bytes, i);
    if (sequence === undefined) {
      out += `\\x${hex(bytes[i]!, 2)}`;
      i++;
    } else {
      out += String.fromCodePoint(sequence.code);
      i += sequence.length;
    }
  }
  return out;
}

/**
 * The one sanitiser: `text` with every character a terminal could act on
 * shown escaped, never raw: `\x1b` (ESC, so no escape sequence survives,
 * whole or partial), `\x07`, `\x08`, `\r`, `\n`, `\x7f`, C1 and the other
 * characters above as `\u009b`, `\u202e`, lone surrogates as `\ud800`.
 * Bytes (`Uint8Array`) are decoded as UTF-8, each invalid byte shown as
 * `\xff` (a string decoded by node already holds U+FFFD there, shown as is).
 * Tab, backslash and every printable character stay as they are, so the
 * result is idempotent: sanitising twice changes nothing.
 *
 * `keepNewlines`: line breaks stay (for text of several lines the caller
 * composed); by default a newline is escaped too, so one message stays one
 * line and cannot forge the next one.
 */
export function safeText(text: string | Uint8Array, options: { keepNewlines?: boolean } = {}): string {
  const decoded = typeof text === 'string' ? text : decodeShowingInvalid(text);
  const pattern = options.keepNewlines ? UNSAFE_BUT_NEWLINE : UNSAFE;
  return decoded.replace(pattern, escapeUnit);
}

/**
 * JSON for programs (events, reports, `--json`, `-o json`): JSON.stringify's
 * text, which escapes C0 controls and lone surrogates itself, with DEL, C1
 * and the characters above escaped as `\u00NN` too: the same value for a
 * JSON parser, and nothing raw for a terminal it is printed on.
 */
export function jsonText(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown, space?: number): string {
  const text = JSON.stringify(value, replacer, space) as string | undefined;
  return (text ?? 'null').replace(UNSAFE_IN_JSON, (char) => `\\u${hex(char.charCodeAt(0), 4)}`);
}

/** Ends `text` with exactly one newline. */
function asLines(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Writes text for humans (one or more lines; a final newline is added) to
 * stdout, line breaks kept and everything else {@link safeText} escapes
 * escaped. A message that is one line of a source's text should be passed
 * through safeText first, so a newline in it is escaped too.
 */
export function printOut(text: string): void {
  process.stdout.write(asLines(safeText(text, { keepNewlines: true })));
}

/** {@link printOut} for stderr. */
export function printErr(text: string): void {
  process.stderr.write(asLines(safeText(text, { keepNewlines: true })));
}
