// JSON-RPC 2.0 message shapes as MCP uses them: classification of what a client posted, and the serialised forms of
// what we answer. Results are spliced in as pre-serialised JSON so that static answers (tools/list pages) are
// serialised once at start, not per request.
import { isObject } from '../util/json.ts';
import { ErrorCode } from './protocol.ts';

export type JsonRpcId = string | number;
export type Params = Record<string, unknown>;

export type Message =
  | { kind: 'request'; id: JsonRpcId; method: string; params: Params | undefined }
  | { kind: 'notification'; method: string; params: Params | undefined }
  | { kind: 'response' }
  | { kind: 'invalid'; id: JsonRpcId | null; reason: string };


/** What one element of a POST body is. MCP: ids are strings or numbers, never null; params, when present, an object. */
export function classifyMessage(raw: unknown): Message {
  if (!isObject(raw)) return { kind: 'invalid', id: null, reason: 'a JSON-RPC message must be an object' };
  const id = raw.id;
  const validId = (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) ? id : null;
  if (raw.jsonrpc !== '2.0') return { kind: 'invalid', id: validId, reason: 'jsonrpc must be "2.0"' };
  if (raw.method === undefined && ('result' in raw || 'error' in raw)) return { kind: 'response' };
  if (typeof raw.method !== 'string' || raw.method === '') return { kind: 'invalid', id: validId, reason: 'method must be a non-empty string' };
  if (raw.params !== undefined && !isObject(raw.params)) return { kind: 'invalid', id: validId, reason: 'params must be an object' };
  const params = raw.params as Params | undefined;
  if (!('id' in raw)) return { kind: 'notification', method: raw.method, params };
  if (validId === null) return { kind: 'invalid', id: null, reason: 'id must be a string or a number' };
  return { kind: 'request', id: validId, method: raw.method, params };
}

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export const rpcError = (code: number, message: string, data?: unknown): RpcError => (data === undefined ? { code, message } : { code, message, data });

export const parseError = (): RpcError => rpcError(ErrorCode.ParseError, 'Parse error: the request body is not valid JSON');
export const invalidRequest = (reason: string): RpcError => rpcError(ErrorCode.InvalidRequest, `Invalid request: ${reason}`);
export const methodNotFound = (method: string): RpcError => rpcError(ErrorCode.MethodNotFound, `Method not found: ${method.slice(0, 100)}`);
export const invalidParams = (reason: string, data?: unknown): RpcError => rpcError(ErrorCode.InvalidParams, `Invalid params: ${reason}`, data);

const idJson = (id: JsonRpcId | null): string => (id === null ? 'null' : JSON.stringify(id));

/** `{"jsonrpc":"2.0","id":…,"result":<resultJson>}` with the result already serialised. */
export const resultMessage = (id: JsonRpcId, resultJson: string): string => `{"jsonrpc":"2.0","id":${idJson(id)},"result":${resultJson}}`;

export const errorMessage = (id: JsonRpcId | null, error: RpcError): string => `{"jsonrpc":"2.0","id":${idJson(id)},"error":${JSON.stringify(error)}}`;
