// The operator's sign-in connections page (/admin/sso): OpenID Connect providers (add, remove; the client secret is
// write-only), workspace auto-join rules, and which workspaces require a connection. Also `tollgate admin sso …`.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { callbackUrl, CONNECTION_NAME_PATTERN, DEFAULT_SCOPES, ProviderError } from '../../identity/index.ts';
import { confirmForm, csrfField, doneFlash, urlCode, type Flash } from '../components.ts';
import { timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { FormError, requireOperator, textField, type Ctx, type SignedIn } from '../page-context.ts';
import { adminPage, operatorPost } from './admin.ts';
import { webAuditContext } from '../audit-context.ts';

const DONE = { added: 'Connection added.', removed: 'Connection removed; its linked identities are gone, the accounts stay.', rule: 'Auto-join rule added.', 'rule-removed': 'Auto-join rule removed.', required: 'Requirement saved.' };

export function mountAdminSso(app: Hono<AppEnv>, services: PageDeps): void {
  const { identity, accounts, config } = services;

  async function ssoPage(c: Ctx, op: SignedIn, flash?: Flash, form: Record<string, string> = {}): Promise<Html> {
    const [connections, rules, required, workspaces] = await Promise.all([
      identity.connections.listConnections(),
      identity.rules.listJoinRules(),
      identity.rules.requirements(),
      accounts.workspaces.listWorkspaces(),
    ]);
    const connName = new Map(connections.map((cn) => [cn.id, cn.label]));
    const wsSlug = new Map(workspaces.map((w) => [w.id, w.slug]));
    const body = html`<section class="panel" aria-labelledby="conn-h">
        <h2 id="conn-h">Sign-in connections</h2>
        <p class="muted small">OpenID Connect providers people can sign in with. Register the redirect URI shown here at the provider. Client secrets are sealed at rest and never shown again.</p>
        ${connections.length
          ? html`<div class="table-wrap"><table class="stack" id="connections">
              <thead><tr><th scope="col">Name</th><th scope="col">Issuer</th><th scope="col">Client id</th><th scope="col">Redirect URI</th><th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${connections.map(
                (cn) => html`<tr>
                  <td>${cn.label} <span class="muted small"><code>${cn.name}</code></span></td>
                  <td data-label="Issuer">${urlCode(cn.issuer)}</td>
                  <td data-label="Client id"><code>${cn.clientId}</code></td>
                  <td data-label="Redirect URI">${urlCode(callbackUrl(config.publicUrl, cn.name))}</td>
                  <td data-label="Added">${timeTag(cn.createdAt)}</td>
                  <td>${confirmForm({ action: `/admin/sso/${cn.name}/remove`, csrf: op.csrf, confirm: `Remove ${cn.label}? People who sign in only with it lose access.`, label: html`Remove<span class="visually-hidden"> ${cn.label}</span>`, buttonClass: 'danger' })}</td>
                </tr>`,
              )}</tbody>
            </table></div>`
          : html`<p class="empty">No sign-in connection yet.</p>`}
      </section>
      <section class="panel" aria-labelledby="add-conn-h">
        <h2 id="add-conn-h">Add a connection</h2>
        <form method="post" action="/admin/sso" class="form-grid">
          ${csrfField(op.csrf)}
          <div><label for="sso-name">Name <span class="hint">Lower-case letters, digits and dashes; part of the redirect URI.</span></label><input id="sso-name" name="name" required maxlength="40" pattern="${CONNECTION_NAME_PATTERN}" value="${form.name ?? ''}" /></div>
          <div><label for="sso-label">Button label <span class="hint">"Sign in with …"</span></label><input id="sso-label" name="label" maxlength="100" value="${form.label ?? ''}" /></div>
          <div><label for="sso-issuer">Issuer URL</label><input id="sso-issuer" name="issuer" type="url" required maxlength="2048" value="${form.issuer ?? ''}" /></div>
          <div><label for="sso-client-id">Client id</label><input id="sso-client-id" name="client_id" required maxlength="512" autocomplete="off" value="${form.client_id ?? ''}" /></div>
          <div><label for="sso-client-secret">Client secret</label><input id="sso-client-secret" name="client_secret" type="password" required maxlength="4096" autocomplete="off" /></div>
          <div><label for="sso-scopes">Scopes</label><input id="sso-scopes" name="scopes" maxlength="512" value="${form.scopes ?? DEFAULT_SCOPES}" /></div>
          <div><button type="submit" class="primary">Add connection</button></div>
        </form>
      </section>
      <section class="panel" aria-labelledby="rules-h">
        <h2 id="rules-h">Workspace auto-join</h2>
        <p class="muted small">People who sign in through a connection join a workspace when the provider verified their e-mail domain, or when a claim (such as <code>groups</code>) holds a value. Existing memberships are never changed.</p>
        ${rules.length
          ? html`<div class="table-wrap"><table id="join-rules">
              <thead><tr><th scope="col">Workspace</th><th scope="col">When</th><th scope="col">Connection</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${rules.map(
                (r) => html`<tr>
                  <td><code>${wsSlug.get(r.workspaceId) ?? '?'}</code></td>
                  <td>${r.kind === 'domain' ? html`verified e-mail at <code>${r.value}</code>` : html`claim <code>${r.claim}</code> holds <code>${r.value}</code>`}</td>
                  <td>${r.connectionId ? connName.get(r.connectionId) : 'any'}</td>
                  <td>${r.role}</td>
                  <td>${confirmForm({ action: `/admin/sso/rules/${r.id}/remove`, csrf: op.csrf, confirm: 'Remove this auto-join rule?', label: 'Remove', buttonClass: 'danger' })}</td>
                </tr>`,
              )}</tbody>
            </table></div>`
          : html`<p class="empty">No auto-join rule.</p>`}
        <form method="post" action="/admin/sso/rules" class="form-grid">
          ${csrfField(op.csrf)}
          <div><label for="rule-ws">Workspace</label><select id="rule-ws" name="workspace" required>${workspaces.map((w) => html`<option value="${w.slug}">${w.name} (${w.slug})</option>`)}</select></div>
          <div><label for="rule-domain">E-mail domain <span class="hint">e.g. acme.com; or leave empty and give a claim.</span></label><input id="rule-domain" name="domain" maxlength="253" /></div>
          <div><label for="rule-claim">Claim = value <span class="hint">e.g. groups=engineering</span></label><input id="rule-claim" name="claim" maxlength="420" /></div>
          <div><label for="rule-conn">Connection</label><select id="rule-conn" name="connection"><option value="">any</option>${connections.map((cn) => html`<option value="${cn.name}">${cn.label}</option>`)}</select></div>
          <div><label for="rule-role">Role</label><select id="rule-role" name="role"><option value="member">member</option><option value="admin">admin</option></select></div>
          <div><button type="submit">Add rule</button></div>
        </form>
      </section>
      <section class="panel" aria-labelledby="req-h">
        <h2 id="req-h">Required connection</h2>
        <p class="muted small">A workspace can accept only people who signed in through a given connection; anyone else is told where to sign in.</p>
        <form method="post" action="/admin/sso/require" class="form-grid">
          ${csrfField(op.csrf)}
          <div><label for="req-ws">Workspace</label><select id="req-ws" name="workspace" required>${workspaces.map((w) => html`<option value="${w.slug}">${w.name} (${w.slug})${required.has(w.id) ? ` — requires ${connName.get(required.get(w.id)!)}` : ''}</option>`)}</select></div>
          <div><label for="req-conn">Requires</label><select id="req-conn" name="connection"><option value="">no connection (any sign-in)</option>${connections.map((cn) => html`<option value="${cn.name}">${cn.label}</option>`)}</select></div>
          <div><button type="submit">Save</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'sso', body, flash ?? doneFlash(c, DONE));
  }

  const connectionByName = async (name: string | undefined) => {
    if (!name) return null;
    const cn = await identity.connections.getConnection(name);
    if (!cn) throw new FormError('Choose one of the connections on the page.');
    return cn;
  };

  app.get('/admin/sso', async (c) => {
    const op = await requireOperator(c, services);
    if (op instanceof Response) return op;
    return c.html(await ssoPage(c, op));
  });

  app.post('/admin/sso', (c) =>
    operatorPost(c, services, (op, flash, form) => ssoPage(c, op, flash, form), async (op, form) => {
      const issuer = textField(form, 'issuer', 2048);
      if (!issuer) throw new FormError('Give the provider\'s issuer URL.');
      try {
        // OpenID Connect Discovery 1.0: the issuer must serve a document that names it.
        await identity.providers.metadata(issuer);
      } catch (err) {
        if (err instanceof ProviderError) throw new FormError(`The issuer's discovery document could not be used: ${err.message}`);
        throw err;
      }
      await identity.connections.addConnection({
        name: textField(form, 'name', 40) ?? '',
        label: textField(form, 'label', 100) || undefined,
        issuer,
        clientId: textField(form, 'client_id', 512) ?? '',
        clientSecret: form.client_secret ?? '',
        scopes: textField(form, 'scopes', 512) || undefined,
      }, webAuditContext(c, services.config.trustedProxyHops, op.user));
      c.get('log').info({ event: 'sso_connection_added' }, 'sign-in connection added');
      return c.redirect('/admin/sso?done=added', 303);
    }),
  );

  app.post('/admin/sso/:name/remove', (c) =>
    operatorPost(c, services, (op, flash) => ssoPage(c, op, flash), async (op) => {
      await identity.connections.removeConnection(c.req.param('name'), webAuditContext(c, services.config.trustedProxyHops, op.user));
      return c.redirect('/admin/sso?done=removed', 303);
    }),
  );

  app.post('/admin/sso/rules', (c) =>
    operatorPost(c, services, (op, flash, form) => ssoPage(c, op, flash, form), async (op, form) => {
      const ws = await accounts.workspaces.requireWorkspace(textField(form, 'workspace', 40) ?? '');
      const connection = await connectionByName(textField(form, 'connection', 40) || undefined);
      const domain = textField(form, 'domain', 253) || undefined;
      const claimPair = textField(form, 'claim', 420) || undefined;
      const eq = claimPair?.indexOf('=') ?? -1;
      if (claimPair && eq < 1) throw new FormError('Write the claim as name=value, e.g. groups=engineering.');
      const role = form.role === 'admin' ? 'admin' : 'member';
      await identity.rules.addJoinRule({ workspaceId: ws.id, connectionId: connection?.id ?? null, domain, claim: claimPair?.slice(0, eq), value: claimPair?.slice(eq + 1), role }, webAuditContext(c, services.config.trustedProxyHops, op.user));
      return c.redirect('/admin/sso?done=rule', 303);
    }),
  );

  app.post('/admin/sso/rules/:id/remove', (c) =>
    operatorPost(c, services, (op, flash) => ssoPage(c, op, flash), async (op) => {
      await identity.rules.removeJoinRule(c.req.param('id').slice(0, 64), webAuditContext(c, services.config.trustedProxyHops, op.user));
      return c.redirect('/admin/sso?done=rule-removed', 303);
    }),
  );

  app.post('/admin/sso/require', (c) =>
    operatorPost(c, services, (op, flash, form) => ssoPage(c, op, flash, form), async (op, form) => {
      const ws = await accounts.workspaces.requireWorkspace(textField(form, 'workspace', 40) ?? '');
      const connection = await connectionByName(textField(form, 'connection', 40) || undefined);
      await identity.rules.requireConnection(ws.id, connection?.id ?? null, webAuditContext(c, services.config.trustedProxyHops, op.user));
      return c.redirect('/admin/sso?done=required', 303);
    }),
  );
}
