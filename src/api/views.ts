// Records of the other modules as the API shows them (snake_case, RFC 3339 times). Never a secret.
import type { Workspace } from '../accounts/index.ts';
import type { Grant, OAuthClient } from '../oauth/index.ts';
import type { LedgerEntry, PlanRecord } from '../credits/index.ts';
import type { ApiDeps } from './deps.ts';
import { iso, isoOrNull } from './schemas.ts';

/**
 * The slugs of the workspaces these records name (null for one that is gone), looked up once each, concurrently;
 * `known` carries the ones already looked up across pages.
 */
export async function workspaceSlugs(deps: Pick<ApiDeps, 'accounts'>, ids: Iterable<string | null>, known = new Map<string, string | null>()): Promise<Map<string, string | null>> {
  const missing = [...new Set(ids)].filter((id): id is string => id !== null && !known.has(id));
  const found = await Promise.all(missing.map((id) => deps.accounts.workspaces.getWorkspace(id)));
  missing.forEach((id, i) => known.set(id, found[i]?.slug ?? null));
  return known;
}

export async function workspaceView(deps: Pick<ApiDeps, 'credits' | 'config'>, ws: Workspace) {
  const account = await deps.credits.getAccount(ws.id);
  return {
    id: ws.id,
    slug: ws.slug,
    name: ws.name,
    external_id: ws.externalId,
    plan: account.plan,
    balance: account.balance,
    suspended: account.suspendedAt !== null,
    mcp_url: `${deps.config.publicUrl}/${ws.slug}/mcp`,
    created_at: iso(ws.createdAt),
  };
}

export const ledgerEntryView = (e: LedgerEntry) => ({
  id: e.id,
  amount: e.amount,
  balance_after: e.balanceAfter,
  reason: e.reason,
  description: e.description,
  tool: e.tool,
  user_id: e.userId,
  client_id: e.clientId,
  request_id: e.requestId,
  created_at: iso(e.createdAt),
});

export const planView = (p: PlanRecord) => ({ name: p.name, workspace_per_minute: p.workspacePerMinute, grant_per_minute: p.grantPerMinute, source: p.source });

export const clientView = (c: OAuthClient) => ({
  client_id: c.clientId,
  client_name: c.name,
  redirect_uris: c.redirectUris,
  token_endpoint_auth_method: c.tokenEndpointAuthMethod as 'none' | 'client_secret_basic' | 'client_secret_post',
  created_at: iso(c.createdAt),
});

export const grantView = (g: Grant, slugOf: (workspaceId: string) => string | null) => ({
  id: g.id,
  client_id: g.clientId,
  user_id: g.userId,
  workspace: slugOf(g.workspaceId),
  resource: g.resource,
  scopes: g.scopes,
  created_at: iso(g.createdAt),
  last_used_at: isoOrNull(g.lastUsedAt),
  revoked_at: isoOrNull(g.revokedAt),
});
