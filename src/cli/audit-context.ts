// Who is making a change at the command line, for the audit trail: the operating-system user on this host (the
// CLI has database access, so whoever runs it is an operator).
import { hostname, userInfo } from 'node:os';
import type { AuditContext } from '../audit/index.ts';

export function cliAuditContext(command: string): AuditContext {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return { actor: { type: 'cli', label: `${user}@${hostname()}`.slice(0, 320) }, userAgent: `tollgate ${command}`.slice(0, 500) };
}
