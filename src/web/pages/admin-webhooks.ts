// Operator page for outbound webhooks: the endpoints (add one, with its secret shown once; remove), and per endpoint
// its delivery log with a redeliver button (the same event id is sent again, so receivers still dedupe).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { EVENT_TYPES, type WebhookEndpoint } from '../../webhooks/index.ts';
import { confirmForm, csrfField, doneFlash, secretBox, type Flash } from '../components.ts';
import { timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { FormError, notFoundPage, requireOperator, textField, type Ctx, type SignedIn } from '../page-context.ts';
import { adminPage, operatorPost } from './admin.ts';
import { webAuditContext } from '../audit-context.ts';

const ENDPOINT_ID = /^we_[0-9a-f]{1,40}$/;
const DELIVERY_ID = /^[0-9a-f-]{36}$/;

export function mountAdminWebhooks(app: Hono<AppEnv>, services: PageDeps): void {
  const endpoints = services.webhooks.endpoints;

  async function listPage(c: Ctx, op: SignedIn, flash?: Flash, form: Record<string, string> = {}, added?: { endpoint: WebhookEndpoint; secret: string }): Promise<Html> {
    const all = await endpoints.listEndpoints();
    const slugs = new Map((await services.accounts.workspaces.listWorkspaces()).map((w) => [w.id, w.slug]));
    const body = html`${added ? html`<section class="panel" aria-labelledby="secret-h">
          <h2 id="secret-h">Signing secret of ${added.endpoint.url}</h2>
          <p>Copy it now: it is shown once. Verify each delivery's <code>webhook-signature</code> with it (Standard Webhooks).</p>
          ${secretBox('webhook-secret', added.secret)}
        </section>` : ''}
      <section class="panel" aria-labelledby="hooks-h">
        <h2 id="hooks-h">Endpoints</h2>
        ${all.length ? html`<div class="table-wrap"><table class="stack" id="webhook-endpoints">
          <thead><tr><th scope="col">URL</th><th scope="col">Scope</th><th scope="col">Events</th><th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${all.map((e) => html`<tr>
            <td><a href="/admin/webhooks/${e.id}"><code>${e.url}</code></a>${e.description ? html`<div class="muted small">${e.description}</div>` : ''}</td>
            <td data-label="Scope">${e.workspaceId ? (slugs.get(e.workspaceId) ?? e.workspaceId) : 'whole deployment'}</td>
            <td data-label="Events">${e.events === '*' ? 'all' : e.events.join(', ')}</td>
            <td data-label="Added">${timeTag(e.createdAt)}</td>
            <td>${confirmForm({ action: `/admin/webhooks/${e.id}/remove`, csrf: op.csrf, confirm: `Remove the endpoint ${e.url}? Its pending deliveries are dropped.`, label: 'Remove', buttonClass: 'small danger', ariaLabel: `Remove ${e.url}` })}</td>
          </tr>`)}</tbody></table></div>` : html`<p class="empty">No endpoints yet.</p>`}
      </section>
      <section class="panel" aria-labelledby="add-hook-h">
        <h2 id="add-hook-h">Add an endpoint</h2>
        <form method="post" action="/admin/webhooks" class="form-grid">
          ${csrfField(op.csrf)}
          <div><label for="hook-url">URL <span class="hint">https; events are POSTed as JSON</span></label><input id="hook-url" name="url" type="url" required maxlength="2048" value="${form.url ?? ''}" /></div>
          <div><label for="hook-ws">Workspace <span class="hint">Empty: every workspace's events</span></label><input id="hook-ws" name="workspace" maxlength="40" value="${form.workspace ?? ''}" /></div>
          <div><label for="hook-events">Events <span class="hint">${EVENT_TYPES.join(', ')}; empty or * for all</span></label><input id="hook-events" name="events" maxlength="1000" value="${form.events ?? ''}" /></div>
          <div><button type="submit" class="primary">Add endpoint</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'webhooks', body, flash ?? doneFlash(c, { removed: 'Endpoint removed.' }));
  }

  async function deliveriesPage(c: Ctx, op: SignedIn, endpoint: WebhookEndpoint, flash?: Flash): Promise<Html> {
    const log = await endpoints.listDeliveries(endpoint.id, 100);
    const body = html`<section class="panel" aria-labelledby="log-h">
        <h2 id="log-h">Deliveries to <code>${endpoint.url}</code></h2>
        <p class="muted small">Newest first. A failed delivery is retried with exponential backoff; "Redeliver" sends it again now, with the same event id.</p>
        ${log.length ? html`<div class="table-wrap"><table class="stack" id="webhook-deliveries">
          <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${log.map((d) => html`<tr data-delivery="${d.id}">
            <td><code>${d.type}</code><div class="muted small">${d.eventId}</div></td>
            <td data-label="Status">${d.status}${d.status === 'pending' && d.attempts ? html` <span class="muted small">next ${timeTag(d.nextAttemptAt)}</span>` : ''}${d.deliveredAt ? html` <span class="muted small">${timeTag(d.deliveredAt)}</span>` : ''}</td>
            <td data-label="Attempts" class="num">${d.attempts}</td>
            <td data-label="Last answer">${d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : '')}</td>
            <td data-label="Created">${timeTag(d.createdAt)}</td>
            <td><form method="post" action="/admin/webhooks/${endpoint.id}/deliveries/${d.id}/redeliver">${csrfField(op.csrf)}<button type="submit" class="small">Redeliver</button></form></td>
          </tr>`)}</tbody></table></div>` : html`<p class="empty">No deliveries yet.</p>`}
        <p><a href="/admin/webhooks">All endpoints</a></p>
      </section>`;
    return adminPage(c, op, 'webhooks', body, flash ?? doneFlash(c, { redelivered: 'Queued for delivery again.' }));
  }

  app.get('/admin/webhooks', async (c) => {
    const op = await requireOperator(c, services);
    if (op instanceof Response) return op;
    return c.html(await listPage(c, op));
  });

  app.get('/admin/webhooks/:id', async (c) => {
    const op = await requireOperator(c, services);
    if (op instanceof Response) return op;
    const id = c.req.param('id');
    const endpoint = ENDPOINT_ID.test(id) ? await endpoints.getEndpoint(id) : undefined;
    if (!endpoint) return notFoundPage(c);
    return c.html(await deliveriesPage(c, op, endpoint));
  });

  app.post('/admin/webhooks', (c) =>
    operatorPost(c, services, (op, flash, form) => listPage(c, op, flash, form), async (op, form) => {
      const url = textField(form, 'url', 2048);
      if (!url) throw new FormError('Enter the endpoint URL.');
      const slug = textField(form, 'workspace', 40);
      const ws = slug ? await services.accounts.workspaces.getWorkspaceBySlug(slug) : undefined;
      if (slug && !ws) throw new FormError(`No workspace "${slug}".`);
      const added = await endpoints.addEndpoint({ url, workspaceId: ws?.id ?? null, events: textField(form, 'events', 1000) }, webAuditContext(c, services.config.trustedProxyHops, op.user));
      return listPage(c, op, { kind: 'ok', text: 'Endpoint added.' }, {}, added);
    }),
  );

  app.post('/admin/webhooks/:id/remove', (c) =>
    operatorPost(c, services, (op, flash) => listPage(c, op, flash), async (op) => {
      const id = c.req.param('id');
      if (!ENDPOINT_ID.test(id) || !(await endpoints.removeEndpoint(id, webAuditContext(c, services.config.trustedProxyHops, op.user)))) throw new FormError('There is no such endpoint (it may have been removed already).');
      return c.redirect('/admin/webhooks?done=removed', 303);
    }),
  );

  app.post('/admin/webhooks/:id/deliveries/:delivery/redeliver', (c) =>
    operatorPost(c, services, (op, flash) => listPage(c, op, flash), async (op) => {
      const id = c.req.param('id');
      const delivery = c.req.param('delivery');
      if (!ENDPOINT_ID.test(id) || !DELIVERY_ID.test(delivery) || !(await endpoints.redeliver(delivery, id, webAuditContext(c, services.config.trustedProxyHops, op.user)))) {
        throw new FormError('There is no such delivery.');
      }
      return c.redirect(`/admin/webhooks/${id}?done=redelivered`, 303);
    }),
  );
}
