// RFC 9457 problem details: every error the management API answers is one of these, as application/problem+json.
// `type` points at the problem's entry on the API reference page; `code` repeats its last segment for programs.

export const PROBLEM_TYPE = 'application/problem+json';

export type ProblemCode =
  | 'unauthorized'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'forbidden_workspace'
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'conflict'
  | 'idempotency_key_missing'
  | 'idempotency_key_reused'
  | 'idempotency_in_progress'
  | 'insufficient_balance'
  | 'rate_limited'
  | 'payload_too_large'
  | 'temporarily_unavailable'
  | 'server_error';

/** Each code's status and title (the reference page lists them). */
export const PROBLEMS: Record<ProblemCode, { status: number; title: string }> = {
  unauthorized: { status: 401, title: 'An API key is required' },
  invalid_token: { status: 401, title: 'The API key is not valid' },
  insufficient_scope: { status: 403, title: 'The API key may not do this' },
  forbidden_workspace: { status: 403, title: 'The API key is for another workspace' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  invalid_request: { status: 400, title: 'The request is not valid' },
  unsupported_media_type: { status: 415, title: 'The body must be JSON' },
  conflict: { status: 409, title: 'Conflict' },
  idempotency_key_missing: { status: 400, title: 'An Idempotency-Key header is required' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used with another request' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  insufficient_balance: { status: 409, title: 'Not enough credits' },
  rate_limited: { status: 429, title: 'Too many requests' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  temporarily_unavailable: { status: 503, title: 'Temporarily unavailable; retry after Retry-After' },
  server_error: { status: 500, title: 'Internal error' },
};

/** A problem a handler throws; the router answers it. `detail` is shown to the client: never put a secret in it. */
export class ApiProblem extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(code: ProblemCode, detail: string, options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(detail);
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ProblemCode;
  request_id: string;
  [extension: string]: unknown;
}

export function problemBody(docsUrl: string, code: ProblemCode, detail: string, requestId: string, instance?: string, extra: Record<string, unknown> = {}): ProblemBody {
  const { status, title } = PROBLEMS[code];
  return { ...extra, type: `${docsUrl}#problem-${code}`, title, status, detail, ...(instance ? { instance } : {}), code, request_id: requestId };
}
