// The OpenAPI 3.1 document, generated from the operation table: the same schemas the router validates with.
import type { Operation, JsonSchema } from './operation.ts';
import { COMPONENTS } from './schemas.ts';
import { PROBLEMS } from './problem.ts';

export const API_VERSION = '1.0.0';

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/** The problems every authenticated operation may answer. */
const COMMON_PROBLEMS: Record<number, string> = { 400: 'Invalid input (problem details list each error)', 401: 'No API key, or not a valid one', 403: 'The key may not do this, or is for another workspace', 404: 'Not found', 429: 'Rate limited (`Retry-After`)', 503: 'The database or Redis cannot answer for the moment (`Retry-After`)' };

export function openApiDocument(operations: readonly Operation[], publicUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters: JsonSchema[] = [];
    for (const [name, schema] of Object.entries(op.params ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    const required = new Set((op.query?.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(op.query?.properties ?? {})) {
      parameters.push({ name, in: 'query', required: required.has(name), schema, ...(schema.description ? { description: schema.description } : {}) });
    }
    if (op.idempotency) {
      parameters.push({ name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', minLength: 1, maxLength: 257 }, description: 'A unique key per intended change (draft-ietf-httpapi-idempotency-key-header); a retry with the same key and body returns the stored answer.' });
    }
    const responses: Record<string, unknown> = {
      [op.response.status]: { description: op.response.description, content: { [op.response.mediaType ?? 'application/json']: { schema: op.response.schema } } },
    };
    const codes = new Set([...Object.keys(COMMON_PROBLEMS).map(Number), ...(op.problems ?? []), ...(op.body ? [413, 415] : [])]);
    for (const status of [...codes].sort()) responses[status] = problemResponse(COMMON_PROBLEMS[status] ?? Object.values(PROBLEMS).find((p) => p.status === status)?.title ?? 'Error');
    responses.default = problemResponse('Unexpected error');
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      parameters,
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
      responses,
      security: [{ apiKey: [] }],
      'x-tollgate-access': op.access,
      ...(op.deploymentKeyOnly ? { 'x-tollgate-deployment-key': true } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Tollgate management API',
      version: API_VERSION,
      description: 'Workspaces, members, credits, plans and prices, OAuth clients, grants and usage. Authenticate with an API key (`Authorization: Bearer tgk_…`); errors are RFC 9457 problem details.',
    },
    servers: [{ url: `${publicUrl}/api/v1` }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: COMPONENTS,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`tgk_…`) from `tollgate admin api-keys create` or the admin page. OAuth access tokens are not accepted.' } },
    },
  };
}
