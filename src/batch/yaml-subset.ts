/**
 * A deliberately small YAML reader for batch manifests, so they can be
 * written by hand without a dependency: block maps and sequences by
 * indentation, `- key: value` items, flow sequences of scalars (`[a, b]`),
 * quoted and plain scalars, numbers, booleans, null, `#` comments. Anchors,
 * multi-line strings, tags and multiple documents are refused, not guessed.
 */

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** Parses the supported YAML subset; throws Error naming the line on anything else. */
export function parseYamlSubset(source: string): unknown {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (/^\s*(---|\.\.\.)\s*$/.test(raw) && i === 0) return;
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) throw new Error(`line ${i + 1}: tabs are not allowed for indentation`);
    if (/^\s*[&*!|>]|:\s+[&*!|>]/.test(text)) throw new Error(`line ${i + 1}: anchors, tags and block scalars are not supported`);
    lines.push({ indent: raw.length - raw.trimStart().length, text: text.trim(), number: i + 1 });
  });
  if (lines.length === 0) return null;
  const [value, next] = parseBlock(lines, 0, lines[0]!.indent);
  if (next < lines.length) throw new Error(`line ${lines[next]!.number}: unexpected indentation`);
  return value;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** Parses the block starting at lines[start] with the given indent; returns the value and the next line index. */
function parseBlock(lines: Line[], start: number, indent: number): [unknown, number] {
  const first = lines[start]!;
  return first.text === '-' || first.text.startsWith('- ') ? parseSequence(lines, start, indent) : parseMap(lines, start, indent);
}

function parseSequence(lines: Line[], start: number, indent: number): [unknown[], number] {
  const items: unknown[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && (lines[i]!.text === '-' || lines[i]!.text.startsWith('- '))) {
    const line = lines[i]!;
    const rest = line.text === '-' ? '' : line.text.slice(2).trim();
    if (rest === '') {
      if (i + 1 < lines.length && lines[i + 1]!.indent > indent) {
        const [value, next] = parseBlock(lines, i + 1, lines[i + 1]!.indent);
        items.push(value);
        i = next;
      } else {
        items.push(null);
        i++;
      }
    } else if (isMapEntry(rest)) {
      // "- key: value" opens a map whose keys sit two columns right of the dash.
      const inner = indent + line.text.indexOf(rest);
      const copy = [...lines];
      copy[i] = { indent: inner, text: rest, number: line.number };
      const [value, next] = parseMap(copy, i, inner);
      items.push(value);
      i = next;
    } else {
      items.push(parseScalar(rest, line.number));
      i++;
    }
  }
  return [items, i];
}

function isMapEntry(text: string): boolean {
  return /^("[^"]*"|'[^']*'|[^\s"'[{][^:]*?):(\s|$)/.test(text);
}

function parseMap(lines: Line[], start: number, indent: number): [Record<string, unknown>, number] {
  const map: Record<string, unknown> = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const m = /^("[^"]*"|'[^']*'|[^\s"'[{][^:]*?):(?:\s+(.*))?$/.exec(line.text);
    if (!m?.[1]) throw new Error(`line ${line.number}: expected "key: value", found "${line.text}"`);
    const key = /^["']/.test(m[1]) ? m[1].slice(1, -1) : m[1].trim();
    if (key in map) throw new Error(`line ${line.number}: duplicate key "${key}"`);
    const rest = (m[2] ?? '').trim();
    if (rest !== '') {
      map[key] = parseScalar(rest, line.number);
      i++;
    } else if (i + 1 < lines.length && (lines[i + 1]!.indent > indent || (lines[i + 1]!.indent === indent && lines[i + 1]!.text.startsWith('- ')))) {
      const [value, next] = parseBlock(lines, i + 1, lines[i + 1]!.indent);
      map[key] = value;
      i = next;
    } else {
      map[key] = null;
      i++;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Error(`line ${lines[i]!.number}: unexpected indentation`);
  return [map, i];
}

function parseScalar(text: string, number: number): unknown {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${number}: unterminated flow sequence`);
    const body = text.slice(1, -1).trim();
    return body === '' ? [] : body.split(',').map((part) => parseScalar(part.trim(), number));
  }
  if (text === '{}') return {};
  if (text.startsWith('{')) throw new Error(`line ${number}: flow maps are not supported: use an indented block`);
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new Error(`line ${number}: bad double-quoted string ${text}`);
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${number}: bad single-quoted string ${text}`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}
