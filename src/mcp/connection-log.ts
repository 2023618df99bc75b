// What the MCP endpoint adds to the per-client connection log (shown on the dashboard): a client's first call on a
// grant, and its errors. Writes are fire-and-forget (the log never slows or breaks a call) and bounded per grant.
import type { ClientEvents } from '../oauth/client-events.ts';
import type { VerifiedAccessToken } from '../oauth/index.ts';

const MAX_REMEMBERED_GRANTS = 50_000;
const ERRORS_PER_GRANT_PER_MINUTE = 20;

export interface ConnectionLog {
  /** Once per grant per process: the first authenticated MCP request. */
  firstCall(token: VerifiedAccessToken, requestId: string, detail: string): void;
  /** An MCP error the client met (throttled per grant). */
  error(token: VerifiedAccessToken, requestId: string, detail: string): void;
}

export function connectionLog(events: ClientEvents): ConnectionLog {
  const seen = new Set<string>();
  const errorWindows = new Map<string, { start: number; count: number }>();

  return {
    firstCall(token, requestId, detail) {
      if (seen.has(token.grantId)) return;
      if (seen.size >= MAX_REMEMBERED_GRANTS) seen.clear();
      seen.add(token.grantId);
      void events.record({ clientId: token.clientId, workspaceId: token.workspaceId, kind: 'mcp_first_call', requestId, detail });
    },
    error(token, requestId, detail) {
      const now = Date.now();
      let w = errorWindows.get(token.grantId);
      if (!w || now - w.start > 60_000) {
        if (errorWindows.size >= MAX_REMEMBERED_GRANTS) errorWindows.clear();
        w = { start: now, count: 0 };
        errorWindows.set(token.grantId, w);
      }
      if (++w.count > ERRORS_PER_GRANT_PER_MINUTE) return;
      void events.record({ clientId: token.clientId, workspaceId: token.workspaceId, kind: 'mcp_error', requestId, detail });
    },
  };
}
