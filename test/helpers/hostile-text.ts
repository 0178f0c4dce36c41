/**
 * What a hostile source says to a terminal, for the tests of the sanitiser
 * and its sinks (src/text/safe-text.ts): a window title (OSC ... BEL), a
 * clear screen, a colour, a carriage return and a backspace (to overwrite
 * the line), an 8-bit CSI and a lone surrogate.
 */
export const HOSTILE = 'evil\u001b]0;pwned\u0007\u001b[2J\u001b[31mRED\r\bX\u009b1m\ud800';

/** {@link HOSTILE} as v2v shows it. */
export const HOSTILE_SHOWN = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED\\r\\x08X\\u009b1m\\ud800';

/**
 * The characters of `text` a terminal could act on, in order: C0 controls
 * but tab (and newline, with `newlines`), DEL, C1, the line separators and
 * bidirectional controls, lone surrogates. Empty for text safe to show.
 */
export function rawControls(text: string, options: { newlines?: boolean } = {}): string[] {
  const pattern = options.newlines
    ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
    : /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  return text.match(pattern) ?? [];
}

/** Whether `bytes` are valid UTF-8 (what a terminal decodes without guessing). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
