// Sign-in and sign-out. One generic message for any failed sign-in (no hint whether the account exists), and a
// throttle on repeated failures per account and per IP that holds across processes (oauth/throttle).
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { readForm } from '../http/body.ts';
import { normalizeEmail } from '../accounts/index.ts';
import { clientIp } from '../oauth/index.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { layout, messagePage, type Html } from './layout.ts';
import { endSession, readSession, startSession } from './session.ts';
import { webAuditContext } from './audit-context.ts';

export const GENERIC_LOGIN_ERROR = 'The email or password is incorrect.';
const IP_FACTOR = 5;

/** Only a path on this site: `/x?y`, never `//host`, `/\\host` or a scheme (no open redirect after sign-in). */
export function safeNextPath(next: string | undefined): string {
  if (!next || next.length > 8192 || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  return next;
}

export function renderLoginPage(props: { csrf: string; next: string; email?: string; error?: string; nonce: string; requestId?: string }): Html {
  const focusPassword = !!props.email;
  return layout({
    title: 'Sign in',
    nonce: props.nonce,
    requestId: props.requestId,
    body: html`<h1>Sign in</h1>
      ${props.error ? html`<p class="message" role="alert" id="login-error">${props.error}</p>` : ''}
      <form method="post" action="/login">
        <input type="hidden" name="${CSRF_FIELD}" value="${props.csrf}" />
        <input type="hidden" name="next" value="${props.next}" />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${props.email ?? ''}" ${focusPassword ? '' : 'autofocus'} ${props.error ? html`aria-describedby="login-error"` : ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" ${focusPassword ? 'autofocus' : ''} />
        <div class="actions"><button class="primary" type="submit">Sign in</button></div>
      </form>
      <p class="muted small">Forgot your password? Ask the person who runs this server to reset it.</p>`,
  });
}

export function mountLogin(app: Hono<AppEnv>, deps: Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'audit'>): void {
  const { loginMaxFailures: max, loginWindowSeconds: window } = deps.config;
  const throttle = deps.oauth.throttle;

  const show = (c: Context<AppEnv>, next: string, status: 200 | 400 | 401 | 429, extra: { email?: string; error?: string } = {}) =>
    c.html(renderLoginPage({ csrf: deps.csrf.token(c, false), next, nonce: c.get('cspNonce'), requestId: c.get('requestId'), ...extra }), status);

  app.get('/login', async (c) => {
    const next = safeNextPath(c.req.query('next'));
    const session = await readSession(c, deps);
    // `reauth=1`: an app asked for a fresh sign-in (OpenID Connect prompt=login or max_age); the form, prefilled.
    if (session && c.req.query('reauth') !== '1') return c.redirect(next, 303);
    return show(c, next, 200, session ? { email: session.user.email } : {});
  });

  app.post('/login', async (c) => {
    const form = await readForm(c);
    const next = safeNextPath(form.next);
    const email = (form.email ?? '').slice(0, 320);
    if (!deps.csrf.verify(c, form[CSRF_FIELD], false)) return show(c, next, 400, { email, error: 'Your sign-in form expired. Please try again.' });

    // Control characters (NUL included) are in no address; the database must never see them.
    // eslint-disable-next-line no-control-regex
    const plainEmail = email.replace(/[\u0000-\u001f\u007f]/g, '');
    const accountKey = `login:acct:${normalizeEmail(plainEmail)}`;
    const ipKey = `login:ip:${clientIp(c, deps.config.trustedProxyHops)}`;
    if ((await throttle.count(accountKey, window)) >= max || (await throttle.count(ipKey, window)) >= max * IP_FACTOR) {
      const retryAfter = throttle.retryAfter(window);
      c.header('Retry-After', String(retryAfter));
      const wait = retryAfter < 90 ? `${retryAfter} seconds` : `${Math.ceil(retryAfter / 60)} minutes`;
      return show(c, next, 429, { email, error: `Too many failed sign-in attempts. Try again in ${wait}.` });
    }
    const user = email && email === plainEmail && form.password ? await deps.accounts.users.authenticate(email, form.password.slice(0, 1024)) : undefined;
    if (!user) {
      await throttle.hit(accountKey, window);
      await throttle.hit(ipKey, window);
      c.get('log').info({ event: 'login_failed' }, 'sign-in failed');
      // The address tried (never the password): who is being guessed at, from where.
      await deps.audit.record({ ...webAuditContext(c, deps.config.trustedProxyHops), action: 'signin.failed', target: { type: 'email', id: normalizeEmail(plainEmail).slice(0, 320) || '(empty)' } });
      return show(c, next, 401, { email, error: GENERIC_LOGIN_ERROR });
    }
    await throttle.clear(accountKey);
    await startSession(c, deps, user.id);
    await deps.audit.record({ ...webAuditContext(c, deps.config.trustedProxyHops, user), action: 'signin.succeeded', target: { type: 'user', id: user.id } });
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    const form = await readForm(c);
    const session = await readSession(c, deps);
    if (session && !deps.csrf.verify(c, form[CSRF_FIELD], true)) {
      return c.html(messagePage({ title: 'Sign-out failed', message: 'The form expired. Reload the page and try again.', nonce: c.get('cspNonce'), requestId: c.get('requestId') }), 400);
    }
    await endSession(c, deps);
    return c.redirect(safeNextPath(form.next) === '/' ? '/login' : safeNextPath(form.next), 303);
  });
}
