// Self-service password reset, when mail is configured: ask for a link by address (the same answer, in about the
// same time, whether or not an account uses it), then choose a new password through the single-use link. Setting it
// ends every session of the account; the person then signs in again (with their second factor, if they have one).
import { webAuditContext } from './audit-context.ts';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { AccountsError, normalizeEmail, ResetRefused } from '../accounts/index.ts';
import { clientIp } from '../oauth/index.ts';
import { csrfField } from './components.ts';
import type { PageDeps } from './deps.ts';
import { layout, messagePage, type Html } from './layout.ts';
import { isPlainText, showMessage, type Ctx } from './page-context.ts';
import { readCsrfForm } from './public-form.ts';
import { endSession } from './session.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

export const PASSWORD_RESET_PATH = '/password-reset';
const CONFIRM_PATH = `${PASSWORD_RESET_PATH}/confirm`;
/** Links mailed to one address per sign-in window; more requests get the same answer and no mail. */
const PER_ADDRESS = 3;
/** Requests from one IP per sign-in window before 429. */
const PER_IP = 30;

type Deps = Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'passwordResets' | 'mail'>;

const card = (c: Ctx, title: string, body: Html) => layout({ title, nonce: c.get('cspNonce'), requestId: c.get('requestId'), body });

export function resetMail(p: { link: string; minutes: number; publicUrl: string }): { subject: string; text: string } {
  return {
    subject: 'Reset your Tollgate password',
    text: [
      `Someone (hopefully you) asked to reset the password of your account at ${p.publicUrl}.`,
      '',
      `Choose a new password here (the link works once, for ${p.minutes} minutes):`,
      p.link,
      '',
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ].join('\n'),
  };
}

export function mountPasswordReset(app: Hono<AppEnv>, deps: Deps): void {
  const { passwordResets: resets, mail } = deps;
  const throttle = deps.oauth.throttle;
  const window = deps.config.loginWindowSeconds;
  const minutes = Math.round(deps.config.passwordResetTtlSeconds / 60);

  // Offered only when mail goes out, and only while password sign-in is on (TOLLGATE_LOCAL_PASSWORDS).
  const offered = mail.configured && deps.config.localPasswords;
  const unavailable = (c: Ctx) =>
    deps.config.localPasswords
      ? showMessage(c, 404, 'Password reset is not available', 'This server does not send email. Ask the person who runs it to reset your password.', [{ href: '/login', label: 'Sign in' }])
      : showMessage(c, 404, 'Password reset is not available', 'This server signs people in through their organization, not with passwords.', [{ href: '/login', label: 'Sign in' }]);

  const requestPage = (c: Ctx, status: 200 | 400 | 429, p: { email?: string; error?: string } = {}) =>
    c.html(
      card(
        c,
        'Reset your password',
        html`<h1>Reset your password</h1>
          ${p.error ? html`<p class="message" role="alert">${p.error}</p>` : ''}
          <p>Enter the email address of your account. We will send it a link to choose a new password.</p>
          <form method="post" action="${PASSWORD_RESET_PATH}">
            ${csrfField(deps.csrf.token(c, false))}
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${p.email ?? ''}" autofocus />
            <div class="actions"><button class="primary" type="submit">Send the link</button></div>
          </form>
          <p class="muted small"><a href="/login">Back to sign-in</a></p>`,
      ),
      status,
    );

  app.get(PASSWORD_RESET_PATH, (c) => (offered ? requestPage(c, 200) : unavailable(c)));

  app.post(PASSWORD_RESET_PATH, async (c) => {
    if (!offered) return unavailable(c);
    const form = await readCsrfForm(c, deps, false);
    if (form instanceof Response) return form;
    const email = (form.email ?? '').trim().slice(0, 320);
    if (!email || !isPlainText(email)) return requestPage(c, 400, { error: 'Enter the email address of your account.' });
    const ipKey = `reset:ip:${clientIp(c, deps.config.trustedProxyHops)}`;
    if ((await throttle.count(ipKey, window)) >= PER_IP) {
      countRateLimited('password_reset');
      c.header('Retry-After', String(throttle.retryAfter(window)));
      return requestPage(c, 429, { email, error: 'Too many requests from here. Try again later.' });
    }
    const addressKey = `reset:acct:${normalizeEmail(email)}`;
    const sentAlready = await throttle.count(addressKey, window);
    await throttle.hit(ipKey, window);
    await throttle.hit(addressKey, window);
    if (sentAlready < PER_ADDRESS) {
      const issued = await resets.requestReset(email);
      if (issued) {
        const link = `${deps.config.publicUrl}${CONFIRM_PATH}?token=${encodeURIComponent(issued.token)}`;
        // Not awaited: the answer must not wait for the mail server only when the account exists.
        void mail.send({ to: issued.email, ...resetMail({ link, minutes, publicUrl: deps.config.publicUrl }) });
      }
    }
    c.get('log').info({ event: 'password_reset_requested' }, 'password reset requested');
    // The same answer whether or not the address has an account.
    return c.html(
      card(
        c,
        'Check your email',
        html`<h1>Check your email</h1>
          <p class="flash ok" role="status">If an account uses <strong>${email}</strong>, we have sent it a link to choose a new password. The link works once, for ${minutes} minutes.</p>
          <p class="muted small">Nothing arrived? Check the address and your spam folder, or <a href="${PASSWORD_RESET_PATH}">ask again</a>.</p>`,
      ),
    );
  });

  const refused = (c: Ctx, err: ResetRefused) =>
    c.html(messagePage({ title: 'Link not usable', message: err.message, nonce: c.get('cspNonce'), requestId: c.get('requestId'), links: [{ href: PASSWORD_RESET_PATH, label: 'Ask for a new link' }, { href: '/login', label: 'Sign in' }] }), err.reason === 'invalid' ? 404 : 410);

  const choosePage = (c: Ctx, status: 200 | 400, p: { token: string; email: string; error?: string }) =>
    c.html(
      card(
        c,
        'Choose a new password',
        html`<h1>Choose a new password</h1>
          ${p.error ? html`<p class="message" role="alert">${p.error}</p>` : ''}
          <p>For <strong>${p.email}</strong>. Every device signed in to this account will be signed out.</p>
          <form method="post" action="${CONFIRM_PATH}">
            ${csrfField(deps.csrf.token(c, false))}
            <input type="hidden" name="token" value="${p.token}" />
            <input type="text" name="username" autocomplete="username" value="${p.email}" hidden />
            <label for="password">New password <span class="hint">At least 10 characters.</span></label>
            <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" autofocus />
            <label for="password2">New password again</label>
            <input id="password2" name="password2" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" />
            <div class="actions"><button class="primary" type="submit">Set the new password</button></div>
          </form>`,
      ),
      status,
    );

  app.get(CONFIRM_PATH, async (c) => {
    const token = c.req.query('token') ?? '';
    const found = await resets.checkToken(token);
    if (typeof found === 'string') return refused(c, new ResetRefused(found));
    return choosePage(c, 200, { token, email: found.email });
  });

  app.post(CONFIRM_PATH, async (c) => {
    const form = await readCsrfForm(c, deps, false);
    if (form instanceof Response) return form;
    const token = form.token ?? '';
    const found = await resets.checkToken(token);
    if (typeof found === 'string') return refused(c, new ResetRefused(found));
    const password = (form.password ?? '').slice(0, 1024);
    if (password !== (form.password2 ?? '').slice(0, 1024)) return choosePage(c, 400, { token, email: found.email, error: 'The two passwords differ.' });
    try {
      await resets.resetPassword(token, password, webAuditContext(c, deps.config.trustedProxyHops));
    } catch (err) {
      if (err instanceof ResetRefused) return refused(c, err);
      if (err instanceof AccountsError) return choosePage(c, 400, { token, email: found.email, error: err.message });
      throw err;
    }
    c.get('log').info({ event: 'password_reset' }, 'password reset through a link');
    await endSession(c, deps);
    return c.html(messagePage({ title: 'Password changed', message: 'Your password is changed and every device that was signed in is signed out. Sign in with the new password.', nonce: c.get('cspNonce'), requestId: c.get('requestId'), links: [{ href: '/login', label: 'Sign in' }] }));
  });
}
