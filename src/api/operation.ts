// One operation of the management API, declared once: its route, who may call it, the JSON Schemas of its inputs
// and answers, and its handler. The router validates every input with these schemas before the handler runs, and
// the OpenAPI document is generated from the same objects (openapi.ts), so the two cannot drift.
import type { Workspace } from '../accounts/index.ts';
import type { AuditContext } from '../audit/index.ts';
import type { ApiKey } from './keys.ts';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface OperationInput {
  /** Path parameters, validated. */
  params: Record<string, string>;
  /** Query parameters, validated and coerced to their schema types. */
  query: Record<string, unknown>;
  /** The JSON body, validated (undefined for operations without one). */
  body: any;
  key: ApiKey;
  /** The workspace named by `{workspace}`, already checked against the key's scope. */
  workspace: Workspace;
  requestId: string;
  /** Who is asking, for the audit trail: the API key (its id and name), the client address, user agent, request id. */
  audit: AuditContext;
  /** The `Idempotency-Key` header, for operations that take one. */
  idempotencyKey?: string;
}

export type OperationResult = { status: number; body: unknown; headers?: Record<string, string> } | { status: number; text: string; contentType: string; headers?: Record<string, string> };

export interface Operation {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** OpenAPI path template under /api/v1, e.g. `/workspaces/{workspace}`. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** `read` keys may call `read` operations only. */
  readonly access: 'read' | 'write';
  /** Only keys for every workspace (deployment-wide operations: prices, plans, creating workspaces, …). */
  readonly deploymentKeyOnly?: boolean;
  /** Schemas of the path parameters (strings). */
  readonly params?: Record<string, JsonSchema>;
  /** An object schema of the query parameters. */
  readonly query?: JsonSchema & { properties: Record<string, JsonSchema> };
  readonly body?: JsonSchema;
  /** `required`: the write needs an `Idempotency-Key` header, and a retry returns the stored answer. */
  readonly idempotency?: 'required';
  /** The success answer: its status and schema (JSON), or a non-JSON media type. */
  readonly response: { status: number; description: string; schema: JsonSchema; mediaType?: string };
  /** Problem codes this operation may answer besides the ones every operation may (for the document). */
  readonly problems?: readonly number[];
  handle(input: OperationInput): Promise<OperationResult>;
}

export const define = (op: Operation): Operation => op;
