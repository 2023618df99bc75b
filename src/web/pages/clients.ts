// A workspace's own OAuth clients: create a confidential client (its secret shown once, in the response to the
// form, never again: only a hash is stored), rotate a secret (the previous one keeps working for the overlap
// window), delete (its grants are revoked), and read its connection log. Owners and admins manage; members look.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { OAuthError, validateClientMetadata, type OAuthClient } from '../../oauth/index.ts';
import { confirmForm, csrfField, doneFlash, secretBox, urlCode, workspacePage, wsPath, type Flash } from '../components.ts';
import { formatUtc, timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { canManage, notFoundPage, readPostForm, requireMember, textField, type Ctx, type MemberAccess } from '../page-context.ts';
import { renderConnectionLog, visibleEvents } from './connection-log.ts';
import { webAuditContext } from '../audit-context.ts';

const AUTH_METHODS = { client_secret_basic: 'HTTP Basic (client_secret_basic)', client_secret_post: 'In the form body (client_secret_post)' } as const;
const CLIENT_ID = /^[A-Za-z0-9_-]{1,255}$/;

interface CreateInput {
  name: string;
  redirectUris: string;
  authMethod: string;
}

function createForm(access: MemberAccess, input: Partial<CreateInput> = {}): Html {
  return html`<section class="panel" aria-labelledby="create-h">
      <h2 id="create-h">Create a confidential client</h2>
      <p class="muted small">For a server-side app you run yourself. Its secret is shown once, right after you create it.</p>
      <form method="post" action="${wsPath(access.workspace, '/clients')}">
        ${csrfField(access.csrf)}
        <label for="client-name">Name <span class="hint">Shown to people on the consent page.</span></label>
        <input id="client-name" name="name" type="text" required maxlength="200" value="${input.name ?? ''}" />
        <label for="redirect-uris">Redirect URIs <span class="hint">One per line: https, a loopback address (http://127.0.0.1/…), or an app scheme (myapp://…).</span></label>
        <textarea id="redirect-uris" name="redirect_uris" required rows="3">${input.redirectUris ?? ''}</textarea>
        <label for="auth-method">How it sends its secret</label>
        <select id="auth-method" name="auth_method">
          ${Object.entries(AUTH_METHODS).map(([v, label]) => html`<option value="${v}" ${input.authMethod === v ? 'selected' : ''}>${label}</option>`)}
        </select>
        <div class="actions start"><button type="submit" class="primary">Create client</button></div>
      </form>
    </section>`;
}

/** The workspace's clients that still exist, newest first. */
async function ownedClients(services: PageDeps, workspaceId: string): Promise<OAuthClient[]> {
  const ids = await services.oauth.workspaceClients.list(workspaceId);
  const clients = await Promise.all(ids.map((id) => services.oauth.clients.getClient(id)));
  return clients.filter((c): c is OAuthClient => !!c);
}

async function renderList(c: Ctx, services: PageDeps, access: MemberAccess, extra: { flash?: Flash; input?: Partial<CreateInput> } = {}): Promise<Html> {
  const clients = await ownedClients(services, access.workspace.id);
  const body = html`<section class="panel" aria-labelledby="clients-h">
      <h2 id="clients-h">OAuth clients</h2>
      <p class="muted small">Clients created for this workspace. Apps that registered themselves or were approved by members are under <a href="${wsPath(access.workspace, '/apps')}">Connected apps</a>.</p>
      ${clients.length
        ? html`<div class="table-wrap"><table class="stack">
            <caption class="visually-hidden">OAuth clients of this workspace</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Authentication</th><th scope="col">Redirect URIs</th><th scope="col">Created</th></tr></thead>
            <tbody>
              ${clients.map(
                (cl) => html`<tr>
                  <td><a href="${wsPath(access.workspace, `/clients/${cl.clientId}`)}">${cl.name}</a></td>
                  <td data-label="Client id"><code>${cl.clientId}</code></td>
                  <td data-label="Authentication">${cl.tokenEndpointAuthMethod}</td>
                  <td data-label="Redirect URIs">${cl.redirectUris.map((u, i) => html`${i ? html`<br />` : ''}${urlCode(u)}`)}</td>
                  <td data-label="Created">${timeTag(cl.createdAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
        : html`<p class="empty">This workspace has no OAuth clients of its own.</p>`}
    </section>
    ${canManage(access.role) ? createForm(access, extra.input) : html`<p class="muted small">Owners and admins can create clients.</p>`}`;
  return workspacePage(c, access, { title: 'OAuth clients', tab: 'clients', body, flash: extra.flash ?? doneFlash(c, { deleted: 'Client deleted; every app using it lost access.' }) });
}

/** The page that shows a secret, once. */
function secretPage(c: Ctx, access: MemberAccess, p: { title: string; client: OAuthClient; secret: string; note: Html | string }): Html {
  const body = html`<section class="panel" aria-labelledby="secret-h">
      <h2 id="secret-h">${p.title}</h2>
      <div class="flash warn" role="status">Copy the secret now. It is shown only this once; Tollgate keeps only a hash of it.</div>
      <p><strong>Client id</strong></p>
      ${secretBox('client-id', p.client.clientId)}
      <p><strong>Client secret</strong></p>
      ${secretBox('client-secret', p.secret)}
      <p class="muted small">${p.note}</p>
      <p><a href="${wsPath(access.workspace, `/clients/${p.client.clientId}`)}">Done: back to ${p.client.name}</a></p>
    </section>`;
  return workspacePage(c, access, { title: p.title, tab: 'clients', body });
}

export function mountClients(app: Hono<AppEnv>, services: PageDeps): void {
  /** An owned client of this workspace, or undefined. */
  async function ownedClient(access: MemberAccess, id: string): Promise<OAuthClient | undefined> {
    if (!CLIENT_ID.test(id) || (await services.oauth.workspaceClients.ownerOf(id)) !== access.workspace.id) return undefined;
    return services.oauth.clients.getClient(id);
  }
  const forbidden = (c: Ctx, access: MemberAccess) =>
    c.html(workspacePage(c, access, { title: 'OAuth clients', tab: 'clients', body: html``, flash: { kind: 'error', text: 'Only owners and admins can manage OAuth clients.' } }), 403);

  app.get('/dashboard/:ws/clients', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    return c.html(await renderList(c, services, access));
  });

  app.post('/dashboard/:ws/clients', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const form = await readPostForm(c, services);
    if (form instanceof Response) return form;
    if (!canManage(access.role)) return forbidden(c, access);
    const input = { name: (form.name ?? '').slice(0, 200), redirectUris: (form.redirect_uris ?? '').slice(0, 10_000), authMethod: form.auth_method ?? '' };
    const fail = async (text: string) => c.html(await renderList(c, services, access, { flash: { kind: 'error', text }, input }), 400);
    const name = textField(form, 'name', 200);
    if (!name) return fail('Give the client a name (at most 200 characters).');
    if (!Object.hasOwn(AUTH_METHODS, input.authMethod)) return fail('Choose how the client sends its secret.');
    const uris = input.redirectUris.split(/\s+/).filter(Boolean);
    if (uris.length === 0 || uris.length > 20) return fail('Enter between 1 and 20 redirect URIs, one per line.');
    let validated;
    try {
      validated = validateClientMetadata({ client_name: name, redirect_uris: uris, token_endpoint_auth_method: input.authMethod });
    } catch (err) {
      if (err instanceof OAuthError) return fail(err.message);
      throw err;
    }
    // A person typing URIs wants each one: refuse the form rather than silently drop some.
    if (validated.refused.length) return fail(`Not accepted: ${validated.refused.map((r) => `${r.uri.slice(0, 100)} (${r.reason})`).join('; ')}`);
    // One transaction: the client, its binding to this workspace, its client.created event and audit record.
    const { client, clientSecret } = await services.oauth.workspaceClients.create(validated.metadata, access.workspace.id, access.user.id, webAuditContext(c, services.config.trustedProxyHops, access.user));
    await services.oauth.clientEvents.record({ clientId: client.clientId, workspaceId: access.workspace.id, kind: 'registered', requestId: c.get('requestId'), detail: `created on the dashboard by ${access.user.email}` });
    return c.html(secretPage(c, access, { title: `Created ${client.name}`, client, secret: clientSecret!, note: 'Use it with the client id at the token endpoint. If it leaks, rotate it.' }));
  });

  app.get('/dashboard/:ws/clients/:id', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const client = await ownedClient(access, c.req.param('id'));
    if (!client) return notFoundPage(c);
    const events = await visibleEvents(services, client.clientId, access.workspace.id, true);
    const manage = canManage(access.role);
    const base = wsPath(access.workspace, `/clients/${client.clientId}`);
    const body = html`<p><a href="${wsPath(access.workspace, '/clients')}">← OAuth clients</a></p>
      <section class="panel" aria-labelledby="client-h">
        <h2 id="client-h">${client.name}</h2>
        <dl class="facts">
          <dt>Client id</dt><dd><code>${client.clientId}</code></dd>
          <dt>Authentication</dt><dd>${client.tokenEndpointAuthMethod}</dd>
          <dt>Redirect URIs</dt><dd>${client.redirectUris.map((u, i) => html`${i ? html`<br />` : ''}${urlCode(u)}`)}</dd>
          <dt>Created</dt><dd>${timeTag(client.createdAt)}</dd>
          <dt>First authorized</dt><dd>${timeTag(client.firstGrantAt, 'not yet')}</dd>
        </dl>
        ${manage
          ? html`<div class="actions start">
              ${confirmForm({ action: `${base}/rotate`, csrf: access.csrf, confirm: `Issue a new secret? The current one keeps working for ${Math.round(services.config.secretRotationOverlapSeconds / 3600)} h.`, label: 'Rotate secret' })}
              ${confirmForm({ action: `${base}/delete`, csrf: access.csrf, confirm: `Delete ${client.name}? Every app using it loses access at once.`, label: 'Delete client', buttonClass: 'danger' })}
            </div>`
          : ''}
      </section>
      <section class="panel" aria-labelledby="log-h">
        <h2 id="log-h">Connection log</h2>
        <p class="muted small">Registration, authorizations, tokens, the first MCP call and errors. Quote a request id when you ask for help: it is in the server's logs too.</p>
        ${renderConnectionLog(events)}
      </section>`;
    return c.html(workspacePage(c, access, { title: client.name, tab: 'clients', body }));
  });

  /** What an action on one client needs: a member's checked form POST, a client of this workspace, the right to manage it. */
  async function clientAction(c: Ctx): Promise<{ access: MemberAccess; client: OAuthClient } | Response> {
    const access = await requireMember(c, services, c.req.param('ws') ?? '');
    if (access instanceof Response) return access;
    const form = await readPostForm(c, services);
    if (form instanceof Response) return form;
    const client = await ownedClient(access, c.req.param('id') ?? '');
    if (!client) return notFoundPage(c);
    if (!canManage(access.role)) return forbidden(c, access);
    return { access, client };
  }

  app.post('/dashboard/:ws/clients/:id/rotate', async (c) => {
    const checked = await clientAction(c);
    if (checked instanceof Response) return checked;
    const { access, client } = checked;
    const rotated = await services.oauth.directory.rotateClientSecret(client.clientId, webAuditContext(c, services.config.trustedProxyHops, access.user));
    if (!rotated) return notFoundPage(c);
    const note = rotated.previousValidUntil
      ? html`The previous secret keeps working until <strong>${formatUtc(rotated.previousValidUntil)}</strong>, so you can switch your app over without downtime.`
      : 'The previous secret no longer works.';
    return c.html(secretPage(c, access, { title: `New secret for ${client.name}`, client, secret: rotated.clientSecret, note }));
  });

  app.post('/dashboard/:ws/clients/:id/delete', async (c) => {
    const checked = await clientAction(c);
    if (checked instanceof Response) return checked;
    const { access, client } = checked;
    await services.oauth.directory.deleteClient(client.clientId, webAuditContext(c, services.config.trustedProxyHops, access.user));
    await services.oauth.workspaceClients.forget(client.clientId);
    return c.redirect(`${wsPath(access.workspace, '/clients')}?done=deleted`, 303);
  });
}
