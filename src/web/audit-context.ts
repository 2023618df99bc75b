// Who is making a change on the web, for the audit trail: the signed-in user, the client address (as the sign-in
// throttle counts it, behind the configured proxies), the user agent and the request id.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { AuditContext } from '../audit/index.ts';
import { clientIp } from '../oauth/index.ts';

export function webAuditContext(c: Context<AppEnv>, trustedProxyHops: number, user?: { id: string; email: string }): AuditContext {
  return {
    actor: user ? { type: 'user', id: user.id, label: user.email } : { type: 'anonymous' },
    ip: clientIp(c, trustedProxyHops),
    userAgent: c.req.header('user-agent')?.slice(0, 500) ?? null,
    requestId: c.get('requestId'),
  };
}
