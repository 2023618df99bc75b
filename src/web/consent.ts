// The browser side of /authorize: sign-in if needed, then the consent page, then the decision. Every decision (the
// request's validity, when to sign in again, which workspaces may be granted, the code itself) is the OAuth module's
// (oauth/authorize.ts, oauth/authorization-policy.ts); this file renders and routes.
import { mediaType } from '../util/media-type.ts';
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { readForm } from '../http/body.ts';
import type { Workspace } from '../accounts/index.ts';
import {
  authorizationIssuer,
  decideAuthorization,
  describeScope,
  isLoopbackRedirect,
  nextAuthorizationStep,
  openAuthorizationRequest,
  redirectDisplay,
  sealAuthorizationRequest,
  validateAuthorizationRequest,
  type AuthorizeDeps,
  type OAuthClient,
  type WorkspaceLookup,
} from '../oauth/index.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { decisionButtons, urlCode } from './components.ts';
import { layout, messagePage, type Html } from './layout.ts';
import { readSession, sessionCookieValue } from './session.ts';

export interface ConsentPageProps {
  client: Pick<OAuthClient, 'clientId' | 'name' | 'kind' | 'extra'>;
  /** Set when a workspace created this client on its dashboard (shown instead of "registered by the operator"). */
  ownerWorkspace?: Pick<Workspace, 'name' | 'slug'>;
  redirectUri: string;
  /** The MCP endpoint the app will use; null when it is chosen with the workspace. */
  resource: string | null;
  scopes: string[];
  /** A fixed workspace, or the user's workspaces to pick from. */
  workspace?: Workspace;
  choices?: Workspace[];
  /** Set when the user cannot approve (not a member): only Deny is offered. */
  blocked?: string;
  userEmail: string;
  sealedRequest: string;
  csrf: string;
  /** Where "Not you?" sign-out returns to. */
  returnTo: string;
  nonce: string;
  requestId?: string;
}

/** A logo only for clients someone vouched for: pre-registered by the operator, or described by a metadata document. */
function logoOf(p: ConsentPageProps): string | undefined {
  if (p.ownerWorkspace || (p.client.kind !== 'static' && p.client.kind !== 'cimd')) return undefined;
  const logo = p.client.extra.logo_uri;
  return typeof logo === 'string' && logo.startsWith('https://') && logo.length <= 2048 ? logo : undefined;
}

function publisherLine(p: ConsentPageProps): Html | string {
  if (p.client.kind === 'dynamic') {
    return html`<p><span class="badge warn">unverified app</span> <span class="muted small">This app registered itself. Tollgate cannot confirm who publishes it, so check the address below before you approve.</span></p>`;
  }
  if (p.client.kind === 'cimd') return html`<p class="muted small">Identified by its metadata published at <strong>${redirectDisplay(p.client.clientId)}</strong>.</p>`;
  if (p.ownerWorkspace) return html`<p><span class="badge info">workspace app</span> <span class="muted small">Registered by the workspace ${p.ownerWorkspace.name} (${p.ownerWorkspace.slug}).</span></p>`;
  return html`<p><span class="badge ok">pre-registered</span> <span class="muted small">Registered by the people who run this server.</span></p>`;
}

export function renderConsentPage(p: ConsentPageProps): Html {
  const logo = logoOf(p);
  const picker = p.choices
    ? html`<label for="workspace">Workspace
          <span class="hint">The app can use only this workspace until you authorize it again.</span></label>
        <select id="workspace" name="workspace" required>
          ${p.choices.map((w, i) => html`<option value="${w.slug}" ${i === 0 ? 'selected' : ''}>${w.name} (${w.slug})</option>`)}
        </select>`
    : '';
  return layout({
    title: 'Authorize access',
    nonce: p.nonce,
    requestId: p.requestId,
    body: html`<div class="app-id">
        ${logo ? html`<img src="${logo}" alt="" width="48" height="48" referrerpolicy="no-referrer" />` : ''}
        <h1><strong>${p.client.name}</strong> wants to use your Tollgate account</h1>
      </div>
      ${publisherLine(p)}
      <div class="redirect-box">
        <p class="muted small">After you decide, you will be sent to</p>
        <p class="redirect-host">${redirectDisplay(p.redirectUri)}</p>
      </div>
      <p>If you approve, it will be able to:</p>
      <ul class="scopes">${p.scopes.map((s) => html`<li>${describeScope(s)}</li>`)}</ul>
      <dl class="facts">
        <dt>MCP server</dt><dd>${p.resource ? urlCode(p.resource) : 'the workspace you choose below'}</dd>
        ${p.workspace ? html`<dt>Workspace</dt><dd>${p.workspace.name} (${p.workspace.slug})</dd>` : ''}
      </dl>
      ${p.blocked ? html`<p class="message" role="alert">${p.blocked}</p>` : ''}
      <form method="post" action="/consent">
        <input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}" />
        <input type="hidden" name="request" value="${p.sealedRequest}" />
        ${p.blocked ? '' : picker}
        ${decisionButtons(!!p.blocked)}
      </form>
      <form method="post" action="/logout" class="signed-in-as muted">
        <input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}" />
        <input type="hidden" name="next" value="${p.returnTo}" />
        Signed in as <strong>${p.userEmail}</strong>. Not you? <button type="submit" class="link">Sign out</button>
      </form>`,
  });
}

/**
 * After a decision for an app on this device (a loopback or private-use redirect URI), a page that sends the
 * browser on to the app (`Refresh`, and a link in case the browser asks first) and says the rest happens there.
 */
export function renderReturnToAppPage(p: { clientName: string; location: string; approved: boolean; nonce: string; requestId?: string }): Html {
  return layout({
    title: p.approved ? 'Return to your app' : 'Access denied',
    nonce: p.nonce,
    requestId: p.requestId,
    body: html`<h1>${p.approved ? html`You can return to ${p.clientName}` : html`You denied ${p.clientName} access`}</h1>
      <p role="status">${p.approved ? 'Access approved. Your app is finishing the connection; you can close this tab.' : 'Your app has been told. You can close this tab.'}</p>
      <p class="muted small">If nothing happens, <a id="return-link" href="${p.location}">open ${p.clientName}</a>.</p>`,
  });
}

const showMessage = (c: Context<AppEnv>, status: 400 | 401 | 403 | 404, title: string, message: string) =>
  c.html(messagePage({ title, message, nonce: c.get('cspNonce'), requestId: c.get('requestId') }), status);

async function readFormParams(c: Context): Promise<URLSearchParams | undefined> {
  if (mediaType(c.req.header('content-type')) !== 'application/x-www-form-urlencoded') return undefined;
  return new URLSearchParams(await c.req.text());
}

/** Redirect URIs that lead back to an app on this device: loopback (RFC 8252 §7.3) and private-use schemes (§7.1). */
export function returnsToLocalApp(redirectUri: string): boolean {
  return isLoopbackRedirect(redirectUri) || !/^https?:/i.test(redirectUri);
}

export function mountConsent(app: Hono<AppEnv>, deps: Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'identity'>): void {
  const events = deps.oauth.clientEvents;
  const authz: AuthorizeDeps = { config: deps.config, workspaces: deps.accounts.workspaces, oauth: deps.oauth };

  /**
   * The authorize decisions as this session may make them: a workspace that requires a sign-in connection is not
   * the session's to give unless it signed in through that connection (the picker leaves it out, a fixed one is
   * refused with where to sign in instead, and the decision refuses it too).
   */
  async function sessionAuthz(c: Context<AppEnv>): Promise<{
    authz: AuthorizeDeps;
    refusal(ws: Workspace | undefined): string | undefined;
    /** Why the picker is empty, when only required connections emptied it. */
    emptyPicker(userId: string): Promise<string | undefined>;
  }> {
    const access = await deps.identity.workspaceAccess(sessionCookieValue(c));
    const base = deps.accounts.workspaces;
    const workspaces: WorkspaceLookup = {
      getWorkspaceBySlug: (slug) => base.getWorkspaceBySlug(slug),
      getWorkspace: (id) => base.getWorkspace(id),
      getRole: async (workspaceId, userId) => (access(workspaceId).allowed ? base.getRole(workspaceId, userId) : undefined),
      listWorkspacesForUser: async (userId) => (await base.listWorkspacesForUser(userId)).filter((w) => access(w.id).allowed),
    };
    return {
      authz: { ...authz, workspaces },
      refusal(ws) {
        const verdict = ws && access(ws.id);
        if (!verdict || verdict.allowed) return undefined;
        return `The workspace "${ws.name}" accepts only people who signed in with ${verdict.connectionLabel}. Sign out below, then choose "Sign in with ${verdict.connectionLabel}" on the sign-in page.`;
      },
      async emptyPicker(userId) {
        const closed = (await base.listWorkspacesForUser(userId)).map((w) => ({ w, verdict: access(w.id) })).filter((x) => !x.verdict.allowed);
        if (!closed.length) return undefined;
        const labels = [...new Set(closed.map((x) => (x.verdict.allowed ? '' : x.verdict.connectionLabel)))].join(' or ');
        return `Your workspaces accept only people who signed in with ${labels}. Sign out below, then choose "Sign in with ${labels.split(' or ')[0]}" on the sign-in page.`;
      },
    };
  }

  async function authorize(c: Context<AppEnv>, slug?: string) {
    const ctx = await authorizationIssuer(authz, slug);
    if (!ctx) return showMessage(c, 404, 'Not found', slug ? `There is no authorization server for "${slug.slice(0, 40)}" here.` : 'Not found.');
    const url = new URL(c.req.url);
    // RFC 6749 §3.1 and OpenID Connect Core §3.1.2.1: GET, and POST with a form body, carry the same parameters.
    const params = c.req.method === 'POST' ? await readFormParams(c) : url.searchParams;
    if (!params) return showMessage(c, 400, 'Invalid request', 'The authorization request must be sent as a form.');
    const outcome = await validateAuthorizationRequest(authz, ctx, params);
    if (outcome.kind === 'page') return showMessage(c, outcome.status, outcome.title, outcome.message);
    if (outcome.kind === 'redirect') {
      const clientId = params.get('client_id');
      if (clientId) await events.record({ clientId, kind: 'authorize_error', requestId: c.get('requestId'), detail: `${outcome.error}: ${outcome.description}` });
      return c.redirect(outcome.location, 302);
    }
    const { request, client } = outcome;
    const session = await readSession(c, deps);
    const forSession = await sessionAuthz(c);
    const step = await nextAuthorizationStep(forSession.authz, request, client, session);
    if (step.kind === 'redirect') return c.redirect(step.location, 302);
    const returnTo = `${url.pathname}?${params.toString()}`;
    if (step.kind === 'sign-in' || !session) return c.redirect(`/login?next=${encodeURIComponent(returnTo)}`, 302);
    if (step.kind === 'fresh-sign-in') {
      const again = new URLSearchParams(params);
      if (step.promptAfter.length) again.set('prompt', step.promptAfter.join(' '));
      else again.delete('prompt');
      return c.redirect(`/login?reauth=1&next=${encodeURIComponent(`${url.pathname}?${again.toString()}`)}`, 302);
    }
    await events.record({ clientId: client.clientId, kind: 'authorize', requestId: c.get('requestId'), detail: `resource ${request.resource.resource ?? '(chosen at consent)'}` });
    return c.html(
      renderConsentPage({
        client,
        ownerWorkspace: step.ownerWorkspace,
        redirectUri: request.redirectUri,
        resource: request.resource.resource,
        scopes: request.scopes,
        workspace: step.workspace,
        choices: step.choices,
        blocked: forSession.refusal(step.workspace) ?? (step.choices?.length === 0 ? ((await forSession.emptyPicker(session.user.id)) ?? step.blocked) : step.blocked),
        userEmail: session.user.email,
        sealedRequest: sealAuthorizationRequest(authz, request, session.user.id),
        csrf: deps.csrf.token(c, true),
        returnTo,
        nonce: c.get('cspNonce'),
        requestId: c.get('requestId'),
      }),
    );
  }

  app.on(['GET', 'POST'], '/authorize', (c) => authorize(c));
  app.on(['GET', 'POST'], '/:ws/authorize', (c) => authorize(c, c.req.param('ws')));

  // The decision. Re-entrant: a reload of the consent page or a second submit simply issues another code.
  app.post('/consent', async (c) => {
    const form = await readForm(c);
    const session = await readSession(c, deps);
    if (!session) return showMessage(c, 401, 'Signed out', 'Your session has ended. Return to the app and connect again.');
    if (!deps.csrf.verify(c, form[CSRF_FIELD], true)) return showMessage(c, 403, 'Form expired', 'This form has expired or did not come from this page. Go back, reload and try again.');
    const request = openAuthorizationRequest(authz, form.request ?? '', session.user.id);
    if (request === 'invalid') return showMessage(c, 400, 'Invalid request', 'This authorization request is not valid. Return to the app and connect again.');
    if (request === 'expired') return showMessage(c, 400, 'Request expired', 'This authorization request has expired. Return to the app and connect again.');
    if (form.decision !== 'approve' && form.decision !== 'deny') return showMessage(c, 400, 'Invalid request', 'Choose Approve or Deny.');
    // eslint-disable-next-line no-control-regex
    if (form.workspace !== undefined && (form.workspace.length > 40 || /[\u0000-\u001f\u007f]/.test(form.workspace))) {
      return showMessage(c, 400, 'Choose a workspace', 'Choose one of the workspaces on the page.');
    }
    const decision = form.decision === 'approve' ? { approve: true as const, workspaceSlug: form.workspace } : { approve: false as const };
    const outcome = await decideAuthorization((await sessionAuthz(c)).authz, request, session.user, decision, { requestId: c.get('requestId'), authTime: session.authTime });
    if (outcome.kind === 'page') return showMessage(c, outcome.status, outcome.title, outcome.message);
    if (!returnsToLocalApp(request.redirectUri)) return c.redirect(outcome.location, 303);
    // An app on this device: say so, and let the page hand the browser over (a custom scheme may first ask).
    const { name } = await deps.oauth.directory.describeClient(request.clientId);
    c.header('Refresh', `0; url=${outcome.location}`);
    return c.html(renderReturnToAppPage({ clientName: name, location: outcome.location, approved: decision.approve, nonce: c.get('cspNonce'), requestId: c.get('requestId') }));
  });
}
