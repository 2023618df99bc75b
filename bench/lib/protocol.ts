// What every bench server announces, and the request every one of them answers.
import { createHash } from 'node:crypto';

/**
 * The baselines' bearer token: opaque, but as long as Tollgate's ES256 JWTs (~600 characters), so that every server
 * parses requests of the same size, with the same headers.
 */
export const BENCH_TOKEN = Array.from({ length: 20 }, (_, i) => createHash('sha256').update(`bench-token-${i}`).digest('base64url')).join('').slice(0, 600);

/** A contact id of the demo CRM's form, for the baselines' get_contact. */
export const BENCH_CONTACT_ID = 'ct_k3v9x2m7q4aa';

export interface ReadyInfo {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Anything extra a server wants the runner to know (pid-local numbers, ids). */
  meta?: Record<string, unknown>;
}

export const READY_PREFIX = 'BENCH_READY ';

export function announceReady(info: ReadyInfo): void {
  process.stdout.write(READY_PREFIX + JSON.stringify(info) + '\n');
}

export function toolCallBody(name: string, args: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
