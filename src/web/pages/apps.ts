// Connected apps: the workspace's grants (one user's authorization of one client), with a Revoke button that ends
// the app's access on its very next MCP request (the bearer check reads the grant). Owners and admins revoke any
// grant; a member may revoke the grants they made themselves.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import type { WorkspaceGrant } from '../../oauth/index.ts';
import { confirmForm, doneFlash, scopeList, urlCode, workspacePage, wsPath } from '../components.ts';
import { agoTag, timeTag } from '../format.ts';
import { canManage, isPlainText, notFoundPage, readPostForm, requireMember, type MemberAccess } from '../page-context.ts';
import { renderConnectionLog, visibleEvents } from './connection-log.ts';
import { webAuditContext } from '../audit-context.ts';

const GRANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const KIND_BADGE: Record<WorkspaceGrant['clientKind'], string> = { dynamic: 'self-registered', static: 'pre-registered', cimd: 'metadata document', deleted: 'deleted' };

async function userEmails(services: PageDeps, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(ids)) out.set(id, (await services.accounts.users.getUser(id))?.email ?? 'deleted user');
  return out;
}

const logLink = (access: MemberAccess, clientId: string) => `${wsPath(access.workspace, '/apps/log')}?client_id=${encodeURIComponent(clientId)}`;

export function mountApps(app: Hono<AppEnv>, services: PageDeps): void {
  app.get('/dashboard/:ws/apps', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const all = await services.oauth.directory.listWorkspaceGrants(access.workspace.id, { includeRevoked: true });
    const active = all.filter((g) => !g.revokedAt);
    const revoked = all.filter((g) => g.revokedAt).slice(0, 50);
    const emails = await userEmails(services, all.map((g) => g.userId));
    const manage = canManage(access.role);

    const activeRows = active.map((g) => {
      const mayRevoke = manage || g.userId === access.user.id;
      return html`<tr>
        <td><a href="${logLink(access, g.clientId)}">${g.clientName}</a> <span class="badge ${g.clientKind === 'dynamic' ? 'warn' : ''}">${KIND_BADGE[g.clientKind]}</span></td>
        <td data-label="Connected by">${emails.get(g.userId)}</td>
        <td data-label="Scopes">${scopeList(g.scopes)}</td>
        <td data-label="MCP server">${urlCode(g.resource)}</td>
        <td data-label="Connected">${timeTag(g.createdAt)}</td>
        <td data-label="Last used">${agoTag(g.lastUsedAt)}</td>
        <td>${mayRevoke
          ? confirmForm({
              action: wsPath(access.workspace, `/apps/${encodeURIComponent(g.id)}/revoke`),
              csrf: access.csrf,
              confirm: `Revoke ${g.clientName}'s access? It stops working on its next request.`,
              label: 'Revoke',
              buttonClass: 'small danger',
              ariaLabel: `Revoke ${g.clientName} (connected by ${emails.get(g.userId)})`,
            })
          : ''}</td>
      </tr>`;
    });
    const body = html`<section class="panel" aria-labelledby="apps-h">
        <h2 id="apps-h">Connected apps</h2>
        <p class="muted small">Apps people in this workspace have approved. Revoking one ends its access on its next request; the app has to be authorized again to come back.</p>
        ${active.length
          ? html`<div class="table-wrap"><table class="stack">
              <caption class="visually-hidden">Connected apps</caption>
              <thead><tr><th scope="col">App</th><th scope="col">Connected by</th><th scope="col">Scopes</th><th scope="col">MCP server</th><th scope="col">Connected</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${activeRows}</tbody>
            </table></div>`
          : html`<p class="empty">No app is connected to this workspace.</p>`}
      </section>
      ${revoked.length
        ? html`<section class="panel" aria-labelledby="revoked-h">
            <h2 id="revoked-h">Recently revoked</h2>
            <div class="table-wrap"><table class="stack">
              <thead><tr><th scope="col">App</th><th scope="col">Connected by</th><th scope="col">Revoked</th><th scope="col">Why</th></tr></thead>
              <tbody>${revoked.map((g) => html`<tr><td><a href="${logLink(access, g.clientId)}">${g.clientName}</a></td><td data-label="Connected by">${emails.get(g.userId)}</td><td data-label="Revoked">${timeTag(g.revokedAt)}</td><td data-label="Why">${g.revokedReason ?? ''}</td></tr>`)}</tbody>
            </table></div>
          </section>`
        : ''}`;
    return c.html(workspacePage(c, access, { title: 'Connected apps', tab: 'apps', body, flash: doneFlash(c, { revoked: 'Access revoked. The app stops working on its next request.' }) }));
  });

  app.post('/dashboard/:ws/apps/:grant/revoke', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const form = await readPostForm(c, services);
    if (form instanceof Response) return form;
    const id = c.req.param('grant');
    const grant = GRANT_ID.test(id) ? await services.oauth.grants.getGrant(id) : undefined;
    if (!grant || grant.workspaceId !== access.workspace.id) return notFoundPage(c);
    if (!canManage(access.role) && grant.userId !== access.user.id) {
      return c.html(workspacePage(c, access, { title: 'Connected apps', tab: 'apps', body: html``, flash: { kind: 'error', text: 'Only owners and admins can revoke apps other people connected.' } }), 403);
    }
    if (await services.oauth.grants.revokeGrant(grant.id, `revoked on the dashboard by ${access.user.email}`, undefined, webAuditContext(c, services.config.trustedProxyHops, access.user))) {
      await services.oauth.clientEvents.record({ clientId: grant.clientId, workspaceId: grant.workspaceId, kind: 'revoked', requestId: c.get('requestId'), detail: `revoked on the dashboard by ${access.user.email}` });
    }
    return c.redirect(`${wsPath(access.workspace, '/apps')}?done=revoked`, 303);
  });

  app.get('/dashboard/:ws/apps/log', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const clientId = c.req.query('client_id') ?? '';
    if (!clientId || clientId.length > 2048 || !isPlainText(clientId)) return notFoundPage(c);
    const grants = (await services.oauth.directory.listWorkspaceGrants(access.workspace.id, { includeRevoked: true })).filter((g) => g.clientId === clientId);
    const owned = (await services.oauth.workspaceClients.ownerOf(clientId)) === access.workspace.id;
    if (!grants.length && !owned) return notFoundPage(c);
    if (owned) return c.redirect(wsPath(access.workspace, `/clients/${encodeURIComponent(clientId)}`), 303);
    const described = await services.oauth.directory.describeClient(clientId);
    const events = await visibleEvents(services, clientId, access.workspace.id, described.kind === 'dynamic');
    const body = html`<p><a href="${wsPath(access.workspace, '/apps')}">← Connected apps</a></p>
      <section class="panel" aria-labelledby="log-h">
        <h2 id="log-h">Connection log: ${described.name}</h2>
        <p class="muted small">Client id <code>${clientId}</code>. Quote a request id when you ask for help: it is in the server's logs too.</p>
        ${renderConnectionLog(events)}
      </section>`;
    return c.html(workspacePage(c, access, { title: `Connection log · ${described.name}`, tab: 'apps', body }));
  });
}
