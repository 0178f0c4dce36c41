/**
 * KubeVirt's published API schema (kubevirt/kubevirt v1.9.0,
 * api/openapi-spec/swagger.json, committed byte for byte as
 * test/fixtures/kubevirt/kubevirt-v1.9.0-swagger.json: docs/testing.md says
 * where it comes from) compiled with ajv, to validate every VirtualMachine
 * `-o kubevirt` writes.
 *
 * Strict as `kubectl apply` is by default (kubectl 1.27 and later ask the API
 * server for strict field validation): a field the schema does not list is
 * an error, not dropped. OpenAPI 2.0 leaves objects open, so every object
 * definition gets `additionalProperties: false`, except the three
 * apimachinery types that hold free-form data (FieldsV1, RawExtension, Patch).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

interface Swagger {
  definitions: Record<string, Record<string, unknown>>;
}

/** The committed schema file. */
export const KUBEVIRT_SWAGGER_PATH = new URL('../fixtures/kubevirt/kubevirt-v1.9.0-swagger.json', import.meta.url);

const FREE_FORM = new Set([
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'k8s.io.apimachinery.pkg.runtime.RawExtension',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Patch',
]);

/** The definitions with every object closed (see above). */
function strictDefinitions(swagger: Swagger): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(swagger.definitions).map(([name, definition]) => {
      const open = definition['type'] !== 'object' || 'additionalProperties' in definition || FREE_FORM.has(name);
      return [name, open ? definition : { ...definition, additionalProperties: false }];
    }),
  );
}

const swagger = JSON.parse(readFileSync(KUBEVIRT_SWAGGER_PATH, 'utf8')) as Swagger;
// strict: false: the x-kubernetes-* extensions are not JSON Schema keywords.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv, ['int32', 'int64', 'float', 'double', 'byte', 'date-time']);
ajv.addFormat('int-or-string', true);
ajv.addSchema({ $id: 'kubevirt', definitions: strictDefinitions(swagger) });
const check = ajv.compile({ $ref: 'kubevirt#/definitions/v1.VirtualMachine' });

/** The problems of a VirtualMachine (parsed) against KubeVirt's schema, as "PATH MESSAGE" lines (empty: valid). */
export function virtualMachineErrors(document: unknown): string[] {
  const problems: string[] = [];
  const { apiVersion, kind } = (document ?? {}) as { apiVersion?: unknown; kind?: unknown };
  // The schema leaves these two free strings; the API server routes by them.
  if (apiVersion !== 'kubevirt.io/v1') problems.push(`/apiVersion is ${JSON.stringify(apiVersion)}, not "kubevirt.io/v1"`);
  if (kind !== 'VirtualMachine') problems.push(`/kind is ${JSON.stringify(kind)}, not "VirtualMachine"`);
  if (!check(document)) {
    for (const e of check.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : '';
      problems.push(`${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`);
    }
  }
  return problems;
}

/** The same for a YAML text, parsed as Kubernetes does (YAML 1.1). */
export function virtualMachineYamlErrors(text: string): string[] {
  return virtualMachineErrors(parse(text, { version: '1.1' }));
}
