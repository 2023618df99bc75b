// The validators the router runs, compiled once from the operation table's schemas.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { COMPONENTS } from './schemas.ts';
import type { JsonSchema } from './operation.ts';

const COMPONENTS_ID = 'https://tollgate.invalid/api/v1/components';

function withComponents(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/components/schemas/`));
}

export function createApiAjv(options: { coerce: boolean }): Ajv2020 {
  // coerceTypes for path and query parameters only (they arrive as strings); bodies are checked as sent.
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true, coerceTypes: options.coerce, logger: false });
  ajv.addFormat('email', /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/);
  ajv.addFormat('date', (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s));
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addSchema({ $id: COMPONENTS_ID, components: { schemas: COMPONENTS } });
  return ajv;
}

export const compile = (ajv: Ajv2020, schema: JsonSchema): ValidateFunction => ajv.compile(withComponents(schema));

/** Ajv's errors as RFC 9457 `errors` members: a JSON pointer into `{ path, query, body }` and what is wrong. */
export function describeErrors(where: 'path' | 'query' | 'body', errors: ErrorObject[] | null | undefined): { pointer: string; detail: string }[] {
  return (errors ?? []).slice(0, 20).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? `/${(e.params as { additionalProperty: string }).additionalProperty}` : e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
    const detail = e.keyword === 'additionalProperties' ? 'is not allowed' : e.keyword === 'required' ? 'is required' : e.keyword === 'enum' ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : (e.message ?? 'is not valid');
    return { pointer: `/${where}${e.instancePath}${extra}`, detail };
  });
}
