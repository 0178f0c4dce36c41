/**
 * docs/machine-readable.schema.json compiled with ajv (draft 2020-12, as the
 * schema says; ajv-formats for its `format: date-time`).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const SCHEMA = JSON.parse(readFileSync(new URL('../../docs/machine-readable.schema.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

const ajv = new Ajv2020({ allErrors: true });
addFormats.default(ajv, ['date-time']);
const check = ajv.compile(SCHEMA);

/** The schema itself, parsed. */
export const MACHINE_READABLE_SCHEMA = SCHEMA;

/** The problems of one event against the schema, as "PATH MESSAGE" lines (empty: valid). */
export function eventErrors(event: unknown): string[] {
  if (check(event)) return [];
  return (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}
