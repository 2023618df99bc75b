// The /device page (RFC 8628 §3.3): the person types (or follows a link with) the user code their device shows,
// sees which app asks and compares the code, picks the workspace, and approves or denies. The device polls the token
// endpoint meanwhile; every decision about the request is recorded by the OAuth module (oauth/device-codes.ts).
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { readForm } from '../http/body.ts';
import type { Workspace } from '../accounts/index.ts';
import { describeScope, formatUserCode, normalizeUserCode, workspaceResourceUrl, type OAuthClient } from '../oauth/index.ts';
import { decisionButtons } from './components.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { layout, messagePage } from './layout.ts';
import { readSession, sessionCookieValue } from './session.ts';

type DeviceDeps = Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'identity'>;

function renderEntry(p: { nonce: string; requestId?: string; error?: string; typed?: string }) {
  return layout({
    title: 'Connect a device',
    nonce: p.nonce,
    requestId: p.requestId,
    body: html`<h1>Connect a device</h1>
      <p>Enter the code your device or terminal shows.</p>
      ${p.error ? html`<p class="message" role="alert">${p.error}</p>` : ''}
      <form method="get" action="/device">
        <label for="user_code">Code</label>
        <input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" value="${p.typed ?? ''}" required />
        <div class="actions"><button class="primary" type="submit">Continue</button></div>
      </form>`,
  });
}

interface DeviceRequestView {
  client: Pick<OAuthClient, 'name' | 'kind'>;
  userCode: string;
  scopes: string[];
  workspace?: Workspace;
  choices: Workspace[];
  blocked?: string;
  userEmail: string;
  csrf: string;
  nonce: string;
  requestId?: string;
}

function renderRequest(p: DeviceRequestView) {
  const picker = p.workspace
    ? html`<input type="hidden" name="workspace" value="${p.workspace.slug}" />`
    : html`<label for="workspace">Workspace
          <span class="hint">The device can use only this workspace until you connect it again.</span></label>
        <select id="workspace" name="workspace" required>
          ${p.choices.map((w, i) => html`<option value="${w.slug}" ${i === 0 ? 'selected' : ''}>${w.name} (${w.slug})</option>`)}
        </select>`;
  return layout({
    title: 'Connect a device',
    nonce: p.nonce,
    requestId: p.requestId,
    body: html`<h1><strong>${p.client.name}</strong> wants to use your Tollgate account</h1>
      ${p.client.kind === 'dynamic' ? html`<p><span class="badge warn">unverified app</span> <span class="muted small">This app registered itself. Approve only if you started this on your own device.</span></p>` : ''}
      <p>Check that your device shows this code:</p>
      <p class="redirect-host" id="device-code">${p.userCode}</p>
      <p>If you approve, it will be able to:</p>
      <ul class="scopes">${p.scopes.map((s) => html`<li>${describeScope(s)}</li>`)}</ul>
      ${p.workspace ? html`<dl class="facts"><dt>Workspace</dt><dd>${p.workspace.name} (${p.workspace.slug})</dd></dl>` : ''}
      ${p.blocked ? html`<p class="message" role="alert">${p.blocked}</p>` : ''}
      <form method="post" action="/device">
        <input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}" />
        <input type="hidden" name="user_code" value="${p.userCode}" />
        ${p.blocked ? '' : picker}
        ${decisionButtons(!!p.blocked)}
      </form>
      <p class="signed-in-as muted">Signed in as <strong>${p.userEmail}</strong>.</p>`,
  });
}

/**
 * The workspaces this request may be given: the one its resource names, else the user's (a workspace app: its own),
 * less those that accept only people who signed in through another connection (as on the consent page); `closedBy`
 * names that connection when it is what left no choice.
 */
async function workspaceChoices(deps: DeviceDeps, c: Context<AppEnv>, row: { client_id: string; resource: string | null }, userId: string): Promise<{ fixed?: Workspace; choices: Workspace[]; closedBy?: string }> {
  const { workspaces } = deps.accounts;
  const mine = await workspaces.listWorkspacesForUser(userId);
  const owner = await deps.oauth.workspaceClients.ownerOf(row.client_id);
  const access = await deps.identity.workspaceAccess(sessionCookieValue(c));
  const forApp = mine.filter((w) => !owner || w.id === owner);
  const prefix = `${deps.config.publicUrl}/`;
  const slug = row.resource?.startsWith(prefix) ? /^([^/]+)\/mcp$/.exec(row.resource.slice(prefix.length))?.[1] : undefined;
  const candidates = slug ? forApp.filter((w) => w.slug === slug) : forApp;
  const choices = candidates.filter((w) => access(w.id).allowed);
  const closed = candidates.map((w) => access(w.id)).find((v) => !v.allowed);
  const closedBy = !choices.length && closed && !closed.allowed ? closed.connectionLabel : undefined;
  return slug ? { fixed: choices[0], choices, closedBy } : { choices, closedBy };
}

export function mountDevice(app: Hono<AppEnv>, deps: DeviceDeps): void {
  const show = (c: Context<AppEnv>, status: 400 | 401 | 403, title: string, message: string) => c.html(messagePage({ title, message, nonce: c.get('cspNonce'), requestId: c.get('requestId') }), status);

  app.get('/device', async (c) => {
    const typed = c.req.query('user_code');
    const session = await readSession(c, deps);
    if (!session) return c.redirect(`/login?next=${encodeURIComponent(`/device${typed ? `?user_code=${encodeURIComponent(typed.slice(0, 40))}` : ''}`)}`, 302);
    const page = { nonce: c.get('cspNonce'), requestId: c.get('requestId') };
    if (!typed) return c.html(renderEntry(page));
    const row = await deps.oauth.deviceCodes.findPending(typed);
    // The same answer for a wrong, used or expired code: the page is no oracle for which codes exist.
    if (!row) return c.html(renderEntry({ ...page, typed: typed.slice(0, 20), error: 'That code is not valid or has expired. Check the code on your device, or start again there.' }), 400);
    const client = await deps.oauth.resolveClient(row.client_id);
    if (!client) return show(c, 400, 'Unknown app', 'The app that asked is no longer registered. Start again on your device.');
    const { fixed, choices, closedBy } = await workspaceChoices(deps, c, row, session.user.id);
    return c.html(
      renderRequest({
        client,
        userCode: formatUserCode(row.user_code),
        scopes: row.scope ? row.scope.split(' ') : [],
        workspace: fixed,
        choices,
        blocked: choices.length
          ? undefined
          : closedBy
            ? `The workspaces this app may use accept only people who signed in with ${closedBy}. Sign out, then choose "Sign in with ${closedBy}" on the sign-in page.`
            : 'You are not a member of a workspace this app may use.',
        userEmail: session.user.email,
        csrf: deps.csrf.token(c, true),
        ...page,
      }),
    );
  });

  app.post('/device', async (c) => {
    const form = await readForm(c);
    const session = await readSession(c, deps);
    if (!session) return show(c, 401, 'Signed out', 'Your session has ended. Sign in and enter the code again.');
    if (!deps.csrf.verify(c, form[CSRF_FIELD], true)) return show(c, 403, 'Form expired', 'This form has expired or did not come from this page. Go back, reload and try again.');
    if (form.decision !== 'approve' && form.decision !== 'deny') return show(c, 400, 'Invalid request', 'Choose Approve or Deny.');
    const userCode = normalizeUserCode(form.user_code ?? '');
    const row = userCode && (await deps.oauth.deviceCodes.findPending(userCode));
    if (!row) return show(c, 400, 'Code expired', 'That code is not valid any more (already decided, or expired). Start again on your device.');
    if (form.decision === 'deny') {
      await deps.oauth.deviceCodes.decide(row.user_code, { approve: false, userId: session.user.id });
      await deps.oauth.clientEvents.record({ clientId: row.client_id, kind: 'authorize_error', requestId: c.get('requestId'), detail: 'access_denied: the user denied the device' });
      return c.html(messagePage({ title: 'Access denied', message: 'You denied the device access. It has been told; you can close this tab.', nonce: c.get('cspNonce'), requestId: c.get('requestId') }));
    }
    const { choices } = await workspaceChoices(deps, c, row, session.user.id);
    const workspace = choices.find((w) => w.slug === form.workspace);
    if (!workspace) return show(c, 400, 'Choose a workspace', 'Choose one of the workspaces on the page.');
    const resource = row.resource ?? workspaceResourceUrl(deps.config.publicUrl, workspace.slug);
    if (!(await deps.oauth.deviceCodes.decide(row.user_code, { approve: true, userId: session.user.id, workspaceId: workspace.id, resource, authTime: session.authTime }))) {
      return show(c, 400, 'Code expired', 'That code is not valid any more (already decided, or expired). Start again on your device.');
    }
    await deps.oauth.clientEvents.record({ clientId: row.client_id, workspaceId: workspace.id, kind: 'authorize', requestId: c.get('requestId'), detail: `device approved for ${workspace.slug}` });
    return c.html(messagePage({ title: 'Device connected', message: `Approved for ${workspace.name}. Return to your device: it finishes the connection by itself. You can close this tab.`, nonce: c.get('cspNonce'), requestId: c.get('requestId') }));
  });
}
