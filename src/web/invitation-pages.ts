// The page an invitation link opens (`/invite?token=…`). Signed in: join as that account. Signed out: sign up with a
// password for the invited address, or sign in first (with a password, or any other sign-in the sign-in page offers)
// and come back here. Used, expired, withdrawn and unknown links each get a page that says so.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { AccountsError, InvitationRefused, type Invitation } from '../accounts/index.ts';
import { csrfField, roleLabel, wsPath } from './components.ts';
import type { PageDeps } from './deps.ts';
import { webAuditContext } from './audit-context.ts';
import { INVITE_PATH } from './invitation-mail.ts';
import { layout, messagePage, type Html } from './layout.ts';
import { textField, type Ctx } from './page-context.ts';
import { readCsrfForm } from './public-form.ts';
import { readSession } from './session.ts';
import { finishPasswordSignIn } from './sign-in-steps.ts';
import type { Session } from '../accounts/index.ts';

type Deps = Pick<PageDeps, 'config' | 'accounts' | 'csrf' | 'invitations' | 'twoFactor' | 'pendingSignIn' | 'audit'>;

const card = (c: Ctx, title: string, body: Html) => layout({ title, nonce: c.get('cspNonce'), requestId: c.get('requestId'), body });

function refusedPage(c: Ctx, err: InvitationRefused): Response | Promise<Response> {
  const titles: Record<string, string> = { invalid: 'Invitation not found', expired: 'Invitation expired', used: 'Invitation already used', revoked: 'Invitation withdrawn' };
  return c.html(
    messagePage({ title: titles[err.reason] ?? 'Invitation not usable', message: err.message, nonce: c.get('cspNonce'), requestId: c.get('requestId'), links: [{ href: '/login', label: 'Sign in' }] }),
    err.reason === 'invalid' ? 404 : 410,
  );
}

const refusalOf = (inv: Invitation | undefined): InvitationRefused | undefined =>
  !inv ? new InvitationRefused('invalid') : inv.state === 'pending' ? undefined : new InvitationRefused(inv.state === 'accepted' ? 'used' : inv.state);

export function mountInvitationAccept(app: Hono<AppEnv>, deps: Deps): void {
  const here = (token: string) => `${INVITE_PATH}?token=${encodeURIComponent(token)}`;

  const summary = (inv: Invitation) =>
    html`<p>${inv.invitedBy ? html`<strong>${inv.invitedBy.name || inv.invitedBy.email}</strong> invited` : 'You are invited:'} <strong>${inv.email}</strong> to the workspace
      <strong>${inv.workspace.name}</strong> <span class="muted small">${inv.workspace.slug}</span> as <strong>${roleLabel(inv.role)}</strong>.</p>`;

  async function invitePage(c: Ctx, token: string, inv: Invitation, session: Session | undefined, status: 200 | 400 | 403 | 409 = 200, error?: string): Promise<Response> {
    const errorLine = error ? html`<p class="message" role="alert">${error}</p>` : '';
    const signIn = `/login?next=${encodeURIComponent(here(token))}`;
    let body: Html;
    if (session) {
      const csrf = deps.csrf.token(c, true);
      body = html`${summary(inv)}${errorLine}
        <p>You are signed in as <strong>${session.user.email}</strong>.</p>
        <form method="post" action="${INVITE_PATH}/accept">
          ${csrfField(csrf)}
          <input type="hidden" name="token" value="${token}" />
          <div class="actions"><button class="primary" type="submit">Join ${inv.workspace.name}</button></div>
        </form>
        <form method="post" action="/logout" class="inline-form">
          ${csrfField(csrf)}
          <input type="hidden" name="next" value="${here(token)}" />
          <p class="muted small">Not you, or another account? <button type="submit" class="link small">Sign out</button></p>
        </form>`;
    } else if (await deps.accounts.users.findUserByEmail(inv.email)) {
      body = html`${summary(inv)}${errorLine}
        <p>An account with this address already exists. Sign in to accept the invitation.</p>
        <div class="actions"><a class="button primary" href="${signIn}">Sign in to accept</a></div>`;
    } else if (!deps.config.localPasswords) {
      // TOLLGATE_LOCAL_PASSWORDS=false: no password accounts; the person signs in through a connection and comes back.
      body = html`${summary(inv)}${errorLine}
        <p>Sign in through your organization to accept the invitation.</p>
        <div class="actions"><a class="button primary" href="${signIn}">Sign in to accept</a></div>`;
    } else {
      body = html`${summary(inv)}${errorLine}
        <h2>Create your account</h2>
        <form method="post" action="${INVITE_PATH}/accept">
          ${csrfField(deps.csrf.token(c, false))}
          <input type="hidden" name="token" value="${token}" />
          <label for="email">Email</label>
          <input id="email" type="email" value="${inv.email}" autocomplete="username" readonly />
          <label for="name">Your name <span class="hint">Optional.</span></label>
          <input id="name" name="name" type="text" autocomplete="name" maxlength="200" />
          <label for="password">Password <span class="hint">At least 10 characters.</span></label>
          <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" />
          <label for="password2">Password again</label>
          <input id="password2" name="password2" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" />
          <div class="actions"><button class="primary" type="submit">Create account and join</button></div>
        </form>
        <p class="muted small">Already have an account, or sign in through your company? <a href="${signIn}">Sign in to accept</a></p>`;
    }
    return c.html(card(c, `Join ${inv.workspace.name}`, html`<h1>Join ${inv.workspace.name}</h1>${body}`), status);
  }

  app.get(INVITE_PATH, async (c) => {
    const token = c.req.query('token') ?? '';
    const inv = await deps.invitations.findByToken(token);
    const refused = refusalOf(inv);
    if (refused || !inv) return refusedPage(c, refused ?? new InvitationRefused('invalid'));
    return invitePage(c, token, inv, await readSession(c, deps));
  });

  app.post(`${INVITE_PATH}/accept`, async (c) => {
    const session = await readSession(c, deps);
    const form = await readCsrfForm(c, deps, !!session);
    if (form instanceof Response) return form;
    const token = form.token ?? '';
    const inv = await deps.invitations.findByToken(token);
    const refused = refusalOf(inv);
    if (refused || !inv) return refusedPage(c, refused ?? new InvitationRefused('invalid'));
    try {
      if (session) {
        const joined = await deps.invitations.acceptForUser(token, session.user.id, webAuditContext(c, deps.config.trustedProxyHops, session.user));
        c.get('log').info({ event: 'invitation_accepted', workspace: joined.workspace.slug }, 'invitation accepted');
        return c.redirect(wsPath(joined.workspace), 303);
      }
      if (!deps.config.localPasswords) return invitePage(c, token, inv, undefined, 403, 'Password accounts are turned off on this server: sign in through your organization to accept.');
      const password = (form.password ?? '').slice(0, 1024);
      if (password !== (form.password2 ?? '').slice(0, 1024)) return invitePage(c, token, inv, undefined, 400, 'The two passwords differ.');
      const name = textField(form, 'name', 200);
      if (name === undefined) return invitePage(c, token, inv, undefined, 400, 'Your name must be one line of at most 200 characters.');
      const joined = await deps.invitations.acceptWithSignUp(token, { password, name }, webAuditContext(c, deps.config.trustedProxyHops));
      c.get('log').info({ event: 'invitation_accepted', workspace: joined.workspace.slug, signup: true }, 'invitation accepted with a new account');
      return finishPasswordSignIn(c, deps, joined.user, wsPath(joined.workspace));
    } catch (err) {
      if (err instanceof InvitationRefused) return refusedPage(c, err);
      if (err instanceof AccountsError) return invitePage(c, token, inv, session, err.code === 'email_taken' ? 409 : 400, err.message);
      throw err;
    }
  });
}
