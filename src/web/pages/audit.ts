// The audit trail on the web: every change for the operator (/admin/audit, filterable by workspace, action and
// actor), and a workspace's own changes for its owners (/dashboard/:ws/audit). Values were redacted when recorded.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { AuditFilter, AuditRecord } from '../../audit/index.ts';
import type { PageDeps } from '../deps.ts';
import { workspacePage, wsPath } from '../components.ts';
import { timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { isOwner, requireMember, requireOperator, showMessage, type Ctx } from '../page-context.ts';
import { adminPage } from './admin.ts';

const PAGE = 50;
const FILTER_TEXT = /^[\x21-\x7e@.]{1,320}$/;

const change = (v: unknown): Html | string => (v === null || v === undefined ? '' : html`<code class="small">${JSON.stringify(v).slice(0, 400)}</code>`);

function auditTable(records: AuditRecord[], slugs: Map<string, string>): Html {
  if (!records.length) return html`<p class="empty">Nothing recorded that matches.</p>`;
  return html`<div class="table-wrap"><table class="stack" id="audit-log">
      <caption class="visually-hidden">Audit log, newest first</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">From</th></tr></thead>
      <tbody>${records.map((r) => html`<tr>
        <td>${timeTag(r.at)}</td>
        <td data-label="Who">${r.actor.label ?? r.actor.id ?? r.actor.type} <span class="muted small">${r.actor.type}</span></td>
        <td data-label="Action"><code>${r.action}</code></td>
        <td data-label="Target">${r.target.type} <code class="small">${r.target.id.slice(0, 80)}</code>${r.workspaceId && slugs.has(r.workspaceId) ? html` <span class="muted small">in ${slugs.get(r.workspaceId)}</span>` : ''}</td>
        <td data-label="Before">${change(r.before)}</td>
        <td data-label="After">${change(r.after)}</td>
        <td data-label="From" class="small">${r.ip ?? ''}${r.requestId ? html`<div class="muted">${r.requestId}</div>` : ''}</td>
      </tr>`)}</tbody>
    </table></div>`;
}

/** The filter from the query string; anything odd is ignored rather than refused. */
function readFilter(c: Ctx): AuditFilter & { workspace?: string } {
  const q = (name: string) => {
    const v = c.req.query(name)?.trim();
    return v && FILTER_TEXT.test(v) ? v : undefined;
  };
  const before = Number(c.req.query('before'));
  return { action: q('action'), actor: q('actor'), workspace: q('workspace'), beforeId: Number.isSafeInteger(before) && before > 0 ? before : undefined, limit: PAGE };
}

function nextLink(base: string, params: Record<string, string | undefined>, nextBeforeId: number | null): Html | string {
  if (!nextBeforeId) return '';
  const qs = new URLSearchParams(Object.entries({ ...params, before: String(nextBeforeId) }).filter(([, v]) => v) as [string, string][]);
  return html`<p><a href="${base}?${qs.toString()}" id="audit-next">Older entries</a></p>`;
}

export function mountAudit(app: Hono<AppEnv>, services: PageDeps): void {
  app.get('/admin/audit', async (c) => {
    const op = await requireOperator(c, services);
    if (op instanceof Response) return op;
    const filter = readFilter(c);
    const workspaces = await services.accounts.workspaces.listWorkspaces();
    const slugs = new Map(workspaces.map((w) => [w.id, w.slug]));
    const ws = filter.workspace ? workspaces.find((w) => w.slug === filter.workspace) : undefined;
    const page = filter.workspace && !ws ? { records: [], nextBeforeId: null } : await services.audit.list({ ...filter, workspaceId: ws?.id });
    const body = html`<section class="panel" aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        <p class="muted small">Every change made on these pages, at the command line or through the API, and every sign-in, newest first. Secrets are never recorded.</p>
        <form method="get" action="/admin/audit" class="form-grid" role="search">
          <div><label for="f-workspace">Workspace</label><input id="f-workspace" name="workspace" maxlength="40" value="${filter.workspace ?? ''}" /></div>
          <div><label for="f-action">Action <span class="hint">Exact, or a prefix such as <code>member.</code></span></label><input id="f-action" name="action" maxlength="64" value="${filter.action ?? ''}" /></div>
          <div><label for="f-actor">Who <span class="hint">An email or id</span></label><input id="f-actor" name="actor" maxlength="320" value="${filter.actor ?? ''}" /></div>
          <div><button type="submit">Filter</button></div>
        </form>
        ${auditTable(page.records, slugs)}
        ${nextLink('/admin/audit', { workspace: filter.workspace, action: filter.action, actor: filter.actor }, page.nextBeforeId)}
      </section>`;
    return c.html(adminPage(c, op, 'audit', body));
  });

  app.get('/dashboard/:ws/audit', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    if (!isOwner(access.role)) return showMessage(c, 403, 'Owners only', 'The audit log of a workspace is shown to its owners.', [{ href: wsPath(access.workspace), label: 'Back to the workspace' }]);
    const filter = readFilter(c);
    const page = await services.audit.list({ ...filter, workspaceId: access.workspace.id });
    const base = wsPath(access.workspace, '/audit');
    const body = html`<section class="panel" aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        <p class="muted small">Changes to this workspace — members and roles, credits, plan, apps revoked — with who made them and from where, newest first.</p>
        <form method="get" action="${base}" class="form-grid" role="search">
          <div><label for="f-action">Action</label><input id="f-action" name="action" maxlength="64" value="${filter.action ?? ''}" /></div>
          <div><label for="f-actor">Who</label><input id="f-actor" name="actor" maxlength="320" value="${filter.actor ?? ''}" /></div>
          <div><button type="submit">Filter</button></div>
        </form>
        ${auditTable(page.records, new Map([[access.workspace.id, access.workspace.slug]]))}
        ${nextLink(base, { action: filter.action, actor: filter.actor }, page.nextBeforeId)}
      </section>`;
    return c.html(workspacePage(c, access, { title: 'Audit log', tab: 'audit', body }));
  });
}
