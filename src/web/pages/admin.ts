// Operator pages (users.is_admin only): workspaces (create, grant credits, set the plan), users (create), every registered OAuth
// client (delete) and token signing keys (rotate). Everything here is also available from `tollgate admin …`.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { UserFacingError } from '../../util/errors.ts';
import { MAX_GRANT } from '../../credits/index.ts';
import { WORKSPACE_SLUG_PATTERN } from '../../accounts/index.ts';
import { randomToken } from '../../util/ids.ts';
import { confirmForm, csrfField, doneFlash, flashMessage, plainPage, secretBox, wsPath, type Flash } from '../components.ts';
import { formatNumber, timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { FormError, readPostForm, requireOperator, textField, type Ctx, type SignedIn } from '../page-context.ts';
import type { ClientKind, OAuthClient } from '../../oauth/index.ts';
import { webAuditContext } from '../audit-context.ts';

export type AdminTab = 'workspaces' | 'users' | 'clients' | 'keys' | 'api-keys' | 'pricing' | 'sso' | 'webhooks' | 'audit' | 'upstreams';
const TABS: { id: AdminTab; label: string }[] = [
  { id: 'workspaces', label: 'Workspaces and credits' },
  { id: 'users', label: 'Users' },
  { id: 'clients', label: 'OAuth clients' },
  { id: 'keys', label: 'Signing keys' },
  { id: 'sso', label: 'Sign-in connections' },
  { id: 'api-keys', label: 'API keys' },
  { id: 'pricing', label: 'Prices and plans' },
  { id: 'webhooks', label: 'Webhooks' },
  { id: 'audit', label: 'Audit log' },
  { id: 'upstreams', label: 'Upstream MCP servers' },
];

/** Clients listed at once (self-registration can make many): the newest. */
const CLIENTS_SHOWN = 200;
const CLIENT_FILTERS: { kind?: ClientKind; label: string }[] = [{ label: 'All' }, { kind: 'dynamic', label: 'Self-registered' }, { kind: 'static', label: 'Pre-registered' }];
const CLIENT_ID = /^[A-Za-z0-9_-]{1,255}$/;

const hostsOf = (uris: string[]): string[] => [...new Set(uris.map((u) => URL.parse(u)?.host || u.split(':')[0]))];

export function adminPage(c: Ctx, op: SignedIn, tab: AdminTab, body: Html, flash?: Flash): Html {
  return plainPage(c, op, {
    title: `Admin · ${TABS.find((t) => t.id === tab)!.label}`,
    section: 'admin',
    body: html`<div class="page-head"><h1>Server administration</h1></div>
      <nav aria-label="Administration sections">
        <ul class="tabs">${TABS.map((t) => html`<li><a href="/admin/${t.id}" ${t.id === tab ? html`aria-current="page"` : ''}>${t.label}</a></li>`)}</ul>
      </nav>
      ${flashMessage(flash)}
      ${body}`,
  });
}

/** Runs an operator action on a checked POST; user-facing errors come back on the page with status 400. */
export async function operatorPost(
  c: Ctx,
  services: PageDeps,
  render: (op: SignedIn, flash: Flash, form: Record<string, string>) => Promise<Html>,
  action: (op: SignedIn, form: Record<string, string>) => Promise<Response | Html>,
): Promise<Response> {
  const op = await requireOperator(c, services);
  if (op instanceof Response) return op;
  const form = await readPostForm(c, services);
  if (form instanceof Response) return form;
  try {
    const out = await action(op, form);
    return out instanceof Response ? out : c.html(out);
  } catch (err) {
    if (err instanceof UserFacingError) return c.html(await render(op, { kind: 'error', text: err.message }, form), 400);
    throw err;
  }
}

export function mountAdmin(app: Hono<AppEnv>, services: PageDeps): void {
  const { accounts, credits } = services;
  const audited = (c: Ctx, op: SignedIn) => webAuditContext(c, services.config.trustedProxyHops, op.user);

  async function workspacesPage(c: Ctx, op: SignedIn, flash?: Flash, form: Record<string, string> = {}): Promise<Html> {
    const all = await accounts.workspaces.listWorkspaces();
    const [balances, plans] = await Promise.all([Promise.all(all.map((w) => credits.getAccount(w.id))), credits.listPlans()]);
    const member = new Set(op.workspaces.map((w) => w.id));
    const body = html`<section class="panel" aria-labelledby="ws-h">
        <h2 id="ws-h">Workspaces</h2>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Workspace</th><th scope="col">Slug</th><th scope="col" class="num">Balance</th><th scope="col">Plan</th><th scope="col">Created</th></tr></thead>
          <tbody>${all.map(
            (w, i) => html`<tr>
              <td>${member.has(w.id) ? html`<a href="${wsPath(w)}">${w.name}</a>` : w.name}</td>
              <td><code>${w.slug}</code></td>
              <td class="num">${formatNumber(balances[i].balance)}</td>
              <td>${balances[i].plan}</td>
              <td>${timeTag(w.createdAt)}</td>
            </tr>`,
          )}</tbody>
        </table></div>
      </section>
      <div class="grid">
        <section class="panel" aria-labelledby="grant-h">
          <h2 id="grant-h">Grant credits</h2>
          <form method="post" action="/admin/credits">
            ${csrfField(op.csrf)}
            <label for="grant-ws">Workspace</label>
            <select id="grant-ws" name="workspace" required>${all.map((w) => html`<option value="${w.slug}" ${form.workspace === w.slug ? 'selected' : ''}>${w.name} (${w.slug})</option>`)}</select>
            <label for="grant-amount">Credits <span class="hint">A whole number from 1 to ${formatNumber(MAX_GRANT)}.</span></label>
            <input id="grant-amount" name="amount" type="number" min="1" max="${MAX_GRANT}" step="1" required value="${form.amount ?? ''}" />
            <label for="grant-reason">Reason <span class="hint">Recorded in the workspace's ledger.</span></label>
            <input id="grant-reason" name="reason" type="text" required maxlength="200" value="${form.reason ?? ''}" />
            <div class="actions start"><button type="submit" class="primary">Grant credits</button></div>
          </form>
        </section>
        <section class="panel" aria-labelledby="plan-h">
          <h2 id="plan-h">Set a workspace's plan</h2>
          <p class="muted small">The plan sets the workspace's rate limits; plans are defined under <a href="/admin/pricing">Prices and plans</a>.</p>
          <form method="post" action="/admin/workspaces/plan">
            ${csrfField(op.csrf)}
            <label for="plan-ws">Workspace</label>
            <select id="plan-ws" name="workspace" required>${all.map((w, i) => html`<option value="${w.slug}" ${form.workspace === w.slug ? 'selected' : ''}>${w.name} (${w.slug}, now ${balances[i].plan})</option>`)}</select>
            <label for="plan-name">Plan</label>
            <select id="plan-name" name="plan" required>${plans.map((p) => html`<option value="${p.name}" ${form.plan === p.name ? 'selected' : ''}>${p.name} (${formatNumber(p.workspacePerMinute)}/min per workspace, ${formatNumber(p.grantPerMinute)}/min per app)</option>`)}</select>
            <div class="actions start"><button type="submit" class="primary">Set plan</button></div>
          </form>
        </section>
        <section class="panel" aria-labelledby="create-ws-h">
          <h2 id="create-ws-h">Create a workspace</h2>
          <form method="post" action="/admin/workspaces">
            ${csrfField(op.csrf)}
            <label for="ws-slug">Slug <span class="hint">3–40 lower-case letters, digits and dashes; the MCP URL becomes /&lt;slug&gt;/mcp.</span></label>
            <input id="ws-slug" name="slug" type="text" required maxlength="40" pattern="${WORKSPACE_SLUG_PATTERN}" value="${form.slug ?? ''}" />
            <label for="ws-name">Name</label>
            <input id="ws-name" name="name" type="text" maxlength="200" value="${form.name ?? ''}" />
            <label for="ws-owner">Owner's email <span class="hint">An existing account.</span></label>
            <input id="ws-owner" name="owner" type="email" autocomplete="off" required maxlength="320" value="${form.owner ?? op.user.email}" />
            <div class="actions start"><button type="submit" class="primary">Create workspace</button></div>
          </form>
        </section>
      </div>`;
    return adminPage(c, op, 'workspaces', body, flash ?? doneFlash(c, { created: 'Workspace created.', granted: 'Credits granted.', plan: 'Plan set.' }));
  }

  async function usersPage(c: Ctx, op: SignedIn, flash?: Flash, form: Record<string, string> = {}, created?: { email: string; password: string }): Promise<Html> {
    const users = await accounts.users.listUsers();
    const body = html`${created
        ? html`<section class="panel" aria-labelledby="pw-h">
            <h2 id="pw-h">Password for ${created.email}</h2>
            <div class="flash warn" role="status">Give this password to ${created.email} now: it is shown only once.</div>
            ${secretBox('new-password', created.password)}
          </section>`
        : ''}
      <section class="panel" aria-labelledby="users-h">
        <h2 id="users-h">Users</h2>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Operator</th><th scope="col">Created</th></tr></thead>
          <tbody>${users.map((u) => html`<tr><td>${u.email}</td><td>${u.name}</td><td>${u.isAdmin ? html`<span class="badge info">operator</span>` : ''}</td><td>${timeTag(u.createdAt)}</td></tr>`)}</tbody>
        </table></div>
      </section>
      <section class="panel" aria-labelledby="create-user-h">
        <h2 id="create-user-h">Create a user</h2>
        <form method="post" action="/admin/users" class="form-grid">
          ${csrfField(op.csrf)}
          <div><label for="user-email">Email</label><input id="user-email" name="email" type="email" autocomplete="off" required maxlength="320" value="${form.email ?? ''}" /></div>
          <div><label for="user-name">Name</label><input id="user-name" name="name" type="text" maxlength="200" value="${form.name ?? ''}" /></div>
          <div><label for="user-password">Password <span class="hint">At least 10 characters; leave empty to generate one.</span></label><input id="user-password" name="password" type="password" autocomplete="new-password" maxlength="1024" /></div>
          <div><label class="check"><input type="checkbox" name="is_admin" value="1" ${form.is_admin ? 'checked' : ''} /> Operator (can use these pages)</label></div>
          <div><button type="submit" class="primary">Create user</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'users', body, flash);
  }

  async function clientsPage(c: Ctx, op: SignedIn, flash?: Flash): Promise<Html> {
    const filter = CLIENT_FILTERS.find((f) => f.kind === c.req.query('kind')) ?? CLIENT_FILTERS[0];
    const [clients, total] = await Promise.all([services.oauth.clients.listClients({ kind: filter.kind, limit: CLIENTS_SHOWN }), services.oauth.clients.countClients({ kind: filter.kind })]);
    // Owning workspaces in one query, then each distinct workspace once (self-registered clients have none).
    const ownerIds = await services.oauth.workspaceClients.ownersOf(clients.filter((cl) => cl.kind === 'static').map((cl) => cl.clientId));
    const slugs = new Map<string, string>();
    for (const id of new Set(ownerIds.values())) {
      const ws = await accounts.workspaces.getWorkspace(id);
      if (ws) slugs.set(id, ws.slug);
    }
    const owners = new Map<string, string>();
    for (const [clientId, workspaceId] of ownerIds) {
      const slug = slugs.get(workspaceId);
      if (slug) owners.set(clientId, slug);
    }
    const kindBadge = (clientId: string, kind: OAuthClient['kind']) =>
      kind === 'dynamic'
        ? html`<span class="badge warn">self-registered</span>`
        : owners.has(clientId)
          ? html`<span class="badge">workspace <code>${owners.get(clientId)}</code></span>`
          : html`<span class="badge">pre-registered</span>`;
    const body = html`<section class="panel" aria-labelledby="clients-h">
        <h2 id="clients-h">OAuth clients</h2>
        <p class="muted small">Every registered client, newest first${total > clients.length ? `: the ${formatNumber(clients.length)} newest of ${formatNumber(total)}` : ''}. Apps that describe themselves with a client ID metadata document are not registered and do not appear here. Deleting a client revokes every grant it holds at once; a self-registered app can register again.</p>
        <nav aria-label="Filter clients"><ul class="tabs">${CLIENT_FILTERS.map((f) => html`<li><a href="/admin/clients${f.kind ? `?kind=${f.kind}` : ''}" ${f === filter ? html`aria-current="page"` : ''}>${f.label}</a></li>`)}</ul></nav>
        ${clients.length
          ? html`<div class="table-wrap"><table class="stack">
              <caption class="visually-hidden">Registered OAuth clients</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Authentication</th><th scope="col">Redirects to</th><th scope="col">Created</th><th scope="col">First authorized</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${clients.map(
                (cl) => html`<tr>
                  <td>${cl.name} ${kindBadge(cl.clientId, cl.kind)}</td>
                  <td data-label="Client id"><code>${cl.clientId}</code></td>
                  <td data-label="Authentication">${cl.tokenEndpointAuthMethod}</td>
                  <td data-label="Redirects to">${hostsOf(cl.redirectUris).map((h, i) => html`${i ? ', ' : ''}${h}`)}</td>
                  <td data-label="Created">${timeTag(cl.createdAt)}</td>
                  <td data-label="First authorized">${timeTag(cl.firstGrantAt, 'never')}</td>
                  <td>${confirmForm({ action: `/admin/clients/${cl.clientId}/delete`, csrf: op.csrf, confirm: `Delete ${cl.name}? Every app using it loses access at once.`, label: html`Delete<span class="visually-hidden"> ${cl.name}</span>`, buttonClass: 'danger' })}</td>
                </tr>`,
              )}</tbody>
            </table></div>`
          : html`<p class="empty">No clients here.</p>`}
      </section>`;
    return adminPage(c, op, 'clients', body, flash ?? doneFlash(c, { deleted: 'Client deleted; every grant it held is revoked.' }));
  }

  async function keysPage(c: Ctx, op: SignedIn, flash?: Flash): Promise<Html> {
    const { keys } = await services.oauth.keys.jwks();
    const body = html`<section class="panel" aria-labelledby="keys-h">
        <h2 id="keys-h">Token signing keys</h2>
        <p class="muted small">Published at <a href="/.well-known/jwks.json"><code>/.well-known/jwks.json</code></a>, newest first. Rotating publishes new keys at once; the old ones keep verifying until every token they signed has expired.</p>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Key id</th><th scope="col">Algorithm</th></tr></thead>
          <tbody>${keys.map((k) => html`<tr><td><code>${String(k.kid)}</code></td><td>${String(k.alg)}</td></tr>`)}</tbody>
        </table></div>
        <form method="post" action="/admin/keys/rotate" data-confirm="Publish new signing keys now?">
          ${csrfField(op.csrf)}
          <div class="actions start"><button type="submit">Rotate signing keys</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'keys', body, flash);
  }

  app.get('/admin', (c) => c.redirect('/admin/workspaces', 303));
  for (const [tab, render] of [['workspaces', workspacesPage], ['users', usersPage], ['clients', clientsPage], ['keys', keysPage]] as const) {
    app.get(`/admin/${tab}`, async (c) => {
      const op = await requireOperator(c, services);
      if (op instanceof Response) return op;
      return c.html(await render(c, op));
    });
  }

  app.post('/admin/workspaces', (c) =>
    operatorPost(c, services, (op, flash, form) => workspacesPage(c, op, flash, form), async (op, form) => {
      const slug = textField(form, 'slug', 40) ?? '';
      const name = textField(form, 'name', 200);
      if (name === undefined) throw new FormError('The name is longer than 200 characters.');
      const ownerEmail = textField(form, 'owner', 320) ?? '';
      const owner = ownerEmail ? await accounts.users.findUserByEmail(ownerEmail) : undefined;
      if (!owner) throw new FormError(ownerEmail ? `No user with the email ${ownerEmail}.` : 'Enter the owner\'s email.');
      accounts.workspaces.validateSlug(slug);
      await services.createWorkspace({ slug, name: name || undefined, ownerUserId: owner.id }, audited(c, op));
      return c.redirect('/admin/workspaces?done=created', 303);
    }),
  );

  app.post('/admin/credits', (c) =>
    operatorPost(c, services, (op, flash, form) => workspacesPage(c, op, flash, form), async (op, form) => {
      const slug = textField(form, 'workspace', 40);
      const ws = slug ? await accounts.workspaces.getWorkspaceBySlug(slug) : undefined;
      if (!ws) throw new FormError('Choose a workspace.');
      const amountText = (form.amount ?? '').trim();
      const amount = /^\d{1,13}$/.test(amountText) ? Number(amountText) : NaN;
      if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_GRANT) throw new FormError(`Enter a whole number of credits from 1 to ${formatNumber(MAX_GRANT)}.`);
      const reason = textField(form, 'reason', 200);
      if (!reason) throw new FormError('Give a reason (at most 200 characters); it goes in the ledger.');
      await credits.grantCredits({ workspaceId: ws.id, amount, reason: 'grant', description: reason, userId: op.user.id, requestId: c.get('requestId') }, audited(c, op));
      return c.redirect('/admin/workspaces?done=granted', 303);
    }),
  );

  app.post('/admin/workspaces/plan', (c) =>
    operatorPost(c, services, (op, flash, form) => workspacesPage(c, op, flash, form), async (op, form) => {
      const slug = textField(form, 'workspace', 40);
      const ws = slug ? await accounts.workspaces.getWorkspaceBySlug(slug) : undefined;
      if (!ws) throw new FormError('Choose a workspace.');
      const plan = textField(form, 'plan', 64);
      if (!plan) throw new FormError('Choose a plan.');
      // plan.changed (before and after) is recorded in the assignment's transaction; an unknown plan is a CreditsError.
      await credits.setPlan(ws.id, plan, audited(c, op));
      return c.redirect('/admin/workspaces?done=plan', 303);
    }),
  );

  app.post('/admin/users', (c) =>
    operatorPost(c, services, (op, flash, form) => usersPage(c, op, flash, form), async (op, form) => {
      const email = textField(form, 'email', 320);
      if (!email) throw new FormError('Enter an email address.');
      const name = textField(form, 'name', 200);
      if (name === undefined) throw new FormError('The name is longer than 200 characters.');
      if ((form.password ?? '').length > 1024) throw new FormError('The password is too long.');
      const generated = form.password ? undefined : randomToken(15);
      const password = form.password || generated!;
      const user = await accounts.users.createUser({ email, name, password, isAdmin: form.is_admin === '1', emailVerified: true }, audited(c, op));
      return usersPage(c, op, { kind: 'ok', text: `Created ${user.email}.` }, {}, generated ? { email: user.email, password: generated } : undefined);
    }),
  );

  app.post('/admin/clients/:id/delete', (c) =>
    operatorPost(c, services, (op, flash) => clientsPage(c, op, flash), async (op) => {
      const id = c.req.param('id');
      const client = CLIENT_ID.test(id) ? await services.oauth.clients.getClient(id) : undefined;
      if (!client) throw new FormError('There is no such client (it may have been deleted already).');
      await services.oauth.clients.deleteClient(client.clientId, audited(c, op));
      await services.oauth.workspaceClients.forget(client.clientId);
      c.get('log').info({ clientId: client.clientId, by: op.user.id }, 'client deleted by an operator');
      return c.redirect('/admin/clients?done=deleted', 303);
    }),
  );

  app.post('/admin/keys/rotate', (c) =>
    operatorPost(c, services, (op, flash) => keysPage(c, op, flash), async (op) => {
      const { kid, retired } = await services.oauth.keys.rotate();
      // Key rotation writes several rows outside one transaction; its record follows it (public key ids only).
      await services.audit.record({ ...audited(c, op), action: 'signing_keys.rotated', target: { type: 'signing_key', id: kid }, after: { retired } });
      return keysPage(c, op, { kind: 'ok', text: html`New signing keys published; access tokens are now signed with <code>${kid}</code>.` });
    }),
  );
}
