// Errors that mean a service Tollgate depends on (the database, in practice) cannot answer right now, so the same
// request may well succeed in a moment: answered 503 with Retry-After (RFC 9110 §15.6.4, §10.2.3), never a 500.

/** Socket-level failures: the server is down, restarting, or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// PostgreSQL SQLSTATE: class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now),
// 53300 (too many connections).
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
// node-postgres reports a lost or unobtainable connection with these messages and no code.
const MESSAGES = /^(Connection terminated( unexpectedly)?|Connection terminated due to connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

/** True when `err` (or an error it wraps, a few levels deep) says a dependency is unavailable for the moment. */
export function isTemporarilyUnavailable(err: unknown): boolean {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Seconds a client should wait before retrying a request refused because a dependency is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;
