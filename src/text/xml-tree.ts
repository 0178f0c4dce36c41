/**
 * A small typed view over xml2js' output, shared by the XML-based inputs
 * (libvirt XML, OVF): synchronous parsing and null-safe child/attribute access.
 */
import { Parser, processors } from 'xml2js';

/** An element as xml2js gives it (explicitArray): `$` attributes, `_` text, children by name. */
export interface XmlNode {
  $?: Record<string, string>;
  _?: string;
  [child: string]: unknown;
}

/**
 * Parses XML synchronously (xml2js calls back before returning). Malformed or
 * empty input throws what `fail(reason)` returns, so each input words its fix.
 */
export function parseXmlTree(text: string, options: { stripPrefixes: boolean }, fail: (reason: string) => Error): XmlNode {
  let result: unknown;
  let failure: unknown;
  const parser = new Parser(
    options.stripPrefixes
      ? { explicitArray: true, tagNameProcessors: [processors.stripPrefix], attrNameProcessors: [processors.stripPrefix] }
      : { explicitArray: true },
  );
  parser.parseString(text.replace(/^\uFEFF/, ''), (error: unknown, value: unknown) => {
    failure = error;
    result = value;
  });
  if (failure || result === null || typeof result !== 'object') {
    throw fail(failure instanceof Error ? (failure.message.split('\n')[0] ?? 'parse error') : 'the file is empty');
  }
  return result as XmlNode;
}

/** xml2js gives a text-only element as a string and an empty one as ''; make both nodes. */
export function asNode(value: unknown): XmlNode {
  if (typeof value === 'string') return value === '' ? {} : { _: value };
  if (Array.isArray(value)) return asNode(value[0]);
  return (value ?? {}) as XmlNode;
}

/** All children named `name`, as nodes. */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  return Array.isArray(value) ? value.map(asNode) : [];
}

/** The first child named `name`. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** An element's text, as written. */
export function textOf(node: XmlNode | undefined): string | undefined {
  return node?._;
}
