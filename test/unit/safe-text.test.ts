/**
 * The one sanitiser (src/text/safe-text.ts), JSON for programs, and the two
 * writers of stdout/stderr. The sinks that use them: safe-output.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonText, printErr, printOut, safeText } from '../../src/text/safe-text.js';
import { HOSTILE, HOSTILE_SHOWN, rawControls } from '../helpers/hostile-text.js';

describe('safeText', () => {
  it('shows every control character escaped: ESC sequences (whole or partial), BEL, CR, backspace, DEL, C1, lone surrogates', () => {
    expect(safeText(HOSTILE)).toBe(HOSTILE_SHOWN);
    expect(safeText('\u001b')).toBe('\\x1b'); // a lone ESC
    expect(safeText('a\u001b[')).toBe('a\\x1b['); // a partial CSI
    expect(safeText('\u009b2J\u0085\u007f')).toBe('\\u009b2J\\u0085\\x7f'); // 8-bit CSI, NEL, DEL
    expect(safeText('\udc00x\ud800')).toBe('\\udc00x\\ud800');
    expect(rawControls(safeText(HOSTILE))).toEqual([]);
  });

  it('escapes newlines unless asked to keep them, and the characters that reorder or break a line', () => {
    expect(safeText('a\nb')).toBe('a\\nb');
    expect(safeText('a\nb\rc', { keepNewlines: true })).toBe('a\nb\\rc');
    expect(safeText('x\u202ey\u2028z\u2066')).toBe('x\\u202ey\\u2028z\\u2066');
  });

  it('keeps tab, backslash and printable text of any script, and is idempotent', () => {
    const plain = 'Debian 12\t«Müller» 数据 😀 C:\\Windows \\x1b';
    expect(safeText(plain)).toBe(plain);
    expect(safeText(safeText(HOSTILE))).toBe(safeText(HOSTILE));
    expect(safeText('\ud83d\ude00')).toBe('😀'); // a surrogate pair is one character, not two lone halves
  });

  it('decodes bytes as UTF-8 and shows each invalid byte as \\xNN (overlong forms and encoded surrogates included)', () => {
    expect(safeText(Buffer.from([0x6f, 0x6b, 0xff, 0xc3, 0xa9, 0x1b, 0x5b]))).toBe('ok\\xffé\\x1b[');
    expect(safeText(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf'); // overlong "/"
    expect(safeText(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // U+D800 encoded
    expect(safeText(Buffer.from([0xe2, 0x82]))).toBe('\\xe2\\x82'); // cut short
    expect(safeText(Buffer.from('😀 ok', 'utf8'))).toBe('😀 ok');
  });
});

describe('jsonText', () => {
  it('is JSON of the original strings, with C0 (JSON.stringify), DEL, C1 and line separators escaped', () => {
    const value = { name: HOSTILE, list: ['\u2028', '\u007f'] };
    const text = jsonText(value, undefined, 2);
    expect(JSON.parse(text)).toEqual(value);
    expect(rawControls(text, { newlines: true })).toEqual([]);
    expect(text).toContain('\\u001b]0;pwned\\u0007');
    expect(text).toContain('\\u009b');
    // What JSON.stringify alone leaves raw: the reason for jsonText.
    expect(rawControls(JSON.stringify(value))).toEqual(['\u009b', '\u2028', '\u007f']);
  });

  it('keeps a replacer (the -o json document sorts its keys with one)', () => {
    expect(jsonText({ b: 1, a: '\u0085' }, (_k, v: unknown) => v)).toBe('{"b":1,"a":"\\u0085"}');
  });
});

describe('printOut and printErr (the only writers of stdout and stderr)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('write the text with its line breaks and nothing else raw, one newline at the end', () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    printOut(`line 1: ${HOSTILE}\nline 2`);
    printErr(`v2v: warning: ${HOSTILE}\n`);
    expect(out.join('')).toBe(`line 1: ${HOSTILE_SHOWN}\nline 2\n`);
    expect(err.join('')).toBe(`v2v: warning: ${HOSTILE_SHOWN}\n`);
    expect(rawControls(out.join('') + err.join(''), { newlines: true })).toEqual([]);
  });
});
