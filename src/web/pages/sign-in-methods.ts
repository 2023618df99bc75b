// The account's sign-in methods: the provider identities linked to it, a button to link each other connection
// (OpenID Connect: the provider must vouch for the e-mail, and the person is signed in here, so they prove both),
// and unlinking.
import { webAuditContext } from '../audit-context.ts';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { confirmForm, csrfField, doneFlash, plainPage } from '../components.ts';
import { timeTag } from '../format.ts';
import { readPostForm, requireUser, showMessage } from '../page-context.ts';
import { redirectToProvider } from '../sso.ts';

export const SIGN_IN_METHODS_PATH = '/account/sign-in-methods';

export function mountSignInMethods(app: Hono<AppEnv>, deps: PageDeps): void {
  app.get(SIGN_IN_METHODS_PATH, async (c) => {
    const signedIn = await requireUser(c, deps);
    if (signedIn instanceof Response) return signedIn;
    const [linked, connections] = await Promise.all([deps.identity.links.listForUser(signedIn.user.id), deps.identity.connections.listConnections()]);
    const linkedIds = new Set(linked.map((l) => l.connectionId));
    const linkable = connections.filter((cn) => !linkedIds.has(cn.id));
    const body = html`<div class="page-head"><h1>Sign-in methods</h1></div>
      <p class="muted">Signed in as <strong>${signedIn.user.email}</strong>.</p>
      <section class="panel" aria-labelledby="linked-h">
        <h2 id="linked-h">Linked identities</h2>
        ${linked.length
          ? html`<div class="table-wrap"><table id="linked-identities">
              <thead><tr><th scope="col">Provider</th><th scope="col">E-mail there</th><th scope="col">Linked</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${linked.map(
                (l) => html`<tr>
                  <td>${l.connectionLabel}<br /><span class="muted small"><code>${l.issuer}</code></span></td>
                  <td>${l.email}</td>
                  <td>${timeTag(l.createdAt)}</td>
                  <td>${timeTag(l.lastUsedAt)}</td>
                  <td>${confirmForm({ action: `${SIGN_IN_METHODS_PATH}/unlink/${l.connectionName}`, csrf: signedIn.csrf, confirm: `Unlink ${l.connectionLabel}? You will no longer be able to sign in with it.`, label: 'Unlink', buttonClass: 'danger' })}</td>
                </tr>`,
              )}</tbody>
            </table></div>`
          : html`<p class="empty">No provider is linked to this account${deps.config.localPasswords ? ': you sign in with your password' : ''}.</p>`}
      </section>
      ${linkable.length
        ? html`<section class="panel" aria-labelledby="link-h">
            <h2 id="link-h">Link a provider</h2>
            <p class="muted small">You will sign in at the provider; it must confirm that the e-mail address is yours.</p>
            ${linkable.map(
              (cn) => html`<form method="post" action="${SIGN_IN_METHODS_PATH}/link" class="inline-form">
                  ${csrfField(signedIn.csrf)}
                  <input type="hidden" name="connection" value="${cn.name}" />
                  <button type="submit">Link ${cn.label}</button>
                </form>`,
            )}
          </section>`
        : ''}`;
    return c.html(plainPage(c, signedIn, { title: 'Sign-in methods', body, flash: doneFlash(c, { unlinked: 'Provider unlinked.' }) }));
  });

  app.post(`${SIGN_IN_METHODS_PATH}/link`, async (c) => {
    const signedIn = await requireUser(c, deps);
    if (signedIn instanceof Response) return signedIn;
    const form = await readPostForm(c, deps);
    if (form instanceof Response) return form;
    return redirectToProvider(c, deps, (form.connection ?? '').slice(0, 40), SIGN_IN_METHODS_PATH, signedIn.user.id);
  });

  app.post(`${SIGN_IN_METHODS_PATH}/unlink/:connection`, async (c) => {
    const signedIn = await requireUser(c, deps);
    if (signedIn instanceof Response) return signedIn;
    const form = await readPostForm(c, deps);
    if (form instanceof Response) return form;
    const linked = await deps.identity.links.listForUser(signedIn.user.id);
    const target = linked.find((l) => l.connectionName === c.req.param('connection'));
    if (!target) return showMessage(c, 404, 'Not found', 'That identity is not linked to your account.', [{ href: SIGN_IN_METHODS_PATH, label: 'Sign-in methods' }]);
    // Never strand an account: without a password, the last linked identity is the only way in.
    if (linked.length === 1 && (!deps.config.localPasswords || !(await deps.accounts.users.hasPassword(signedIn.user.id)))) {
      return showMessage(c, 400, 'Cannot unlink', 'This is the only way you can sign in to this account, so it stays linked.', [{ href: SIGN_IN_METHODS_PATH, label: 'Sign-in methods' }]);
    }
    await deps.identity.links.unlink(signedIn.user.id, target.issuer, target.subject, webAuditContext(c, deps.config.trustedProxyHops, signedIn.user));
    c.get('log').info({ event: 'sso_unlinked', connection: target.connectionName }, 'identity unlinked');
    return c.redirect(`${SIGN_IN_METHODS_PATH}?done=unlinked`, 303);
  });
}
