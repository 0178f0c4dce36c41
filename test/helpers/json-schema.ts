/**
 * A tiny JSON Schema validator: exactly the keywords docs/*.schema.json use
 * (type, enum, const, required, properties, additionalProperties: false,
 * items, minimum, maximum, pattern, format date-time, allOf, if/then).
 * An unknown keyword throws, so the schema cannot silently outgrow it.
 */

/** A JSON Schema (the subset above). */
export type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', '$id', 'title', 'description', 'type', 'enum', 'const', 'required', 'properties',
  'additionalProperties', 'items', 'minimum', 'maximum', 'pattern', 'format', 'allOf', 'if', 'then',
]);

/** Returns the problems of `value` against `schema` (empty: valid). */
export function validate(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) throw new Error(`json-schema.ts does not implement "${key}" (at ${path})`);
  }
  const type = schema['type'] as string | undefined;
  if (type !== undefined && !hasType(value, type)) return [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  if (schema['enum'] !== undefined && !(schema['enum'] as unknown[]).includes(value)) errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema['enum'])}`);
  if (schema['const'] !== undefined && schema['const'] !== value) errors.push(`${path}: expected ${JSON.stringify(schema['const'])}`);
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${path}: ${value} < ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${path}: ${value} > ${schema['maximum']}`);
  }
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(value)) errors.push(`${path}: "${value}" does not match ${schema['pattern']}`);
    if (schema['format'] === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${path}: "${value}" is not a date-time`);
  }
  if (Array.isArray(value) && schema['items']) {
    value.forEach((item, i) => errors.push(...validate(schema['items'] as Schema, item, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    for (const key of (schema['required'] as string[] | undefined) ?? []) {
      if (!(key in value)) errors.push(`${path}: missing "${key}"`);
    }
    const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [key, item] of Object.entries(value)) {
      if (properties[key]) errors.push(...validate(properties[key], item, `${path}.${key}`));
      else if (schema['additionalProperties'] === false) errors.push(`${path}: unexpected property "${key}"`);
    }
  }
  for (const sub of (schema['allOf'] as Schema[] | undefined) ?? []) errors.push(...validate(sub, value, path));
  if (schema['if'] !== undefined && validate(schema['if'] as Schema, value, path).length === 0 && schema['then'] !== undefined) {
    errors.push(...validate(schema['then'] as Schema, value, path));
  }
  return errors;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    default:
      throw new Error(`json-schema.ts does not implement type "${type}"`);
  }
}
