// Sign-in and sign-out. One generic message for any failed sign-in (no hint whether the account exists), and a
// throttle on repeated failures per account and per IP that holds across processes (oauth/throttle).
import { counter } from '../observability/metrics.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';
import type { Context, Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { readForm } from '../http/body.ts';
import { normalizeEmail } from '../accounts/index.ts';
import { clientIp } from '../oauth/index.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { layout, messagePage, type Html } from './layout.ts';
import { endSession, readSession } from './session.ts';
import { finishPasswordSignIn } from './sign-in-steps.ts';
import { PASSWORD_RESET_PATH } from './password-reset-pages.ts';
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

/** "Sign in with …" buttons, one per sign-in connection (web/sso.ts). */
function connectionButtons(connections: readonly { name: string; label: string }[], next: string, reauth = false): Html | string {
  if (!connections.length) return '';
  const params = new URLSearchParams();
  if (next !== '/') params.set('next', next);
  // An app asked for a fresh sign-in (prompt=login, max_age): the provider is asked for one too.
  if (reauth) params.set('reauth', '1');
  const query = params.size ? `?${params}` : '';
  return html`<ul class="sso-buttons" aria-label="Sign in with your organization">
      ${connections.map((c) => html`<li><a class="button sso" href="/login/sso/${c.name}${query}">Sign in with ${c.label}</a></li>`)}
    </ul>`;
}

export function renderLoginPage(props: {
  csrf: string;
  next: string;
  email?: string;
  error?: string;
  nonce: string;
  requestId?: string;
  connections?: readonly { name: string; label: string }[];
  /** False when the deployment turned password sign-in off (TOLLGATE_LOCAL_PASSWORDS). */
  passwords?: boolean;
  /** A fresh sign-in was asked for (`/login?reauth=1`). */
  reauth?: boolean;
  /** Self-service password reset is on (SMTP configured). */
  passwordReset?: boolean;
}): Html {
  const focusPassword = !!props.email;
  const connections = props.connections ?? [];
  if (props.passwords === false) {
    return layout({
      title: 'Sign in',
      nonce: props.nonce,
      requestId: props.requestId,
      body: html`<h1>Sign in</h1>
        ${props.error ? html`<p class="message" role="alert" id="login-error">${props.error}</p>` : ''}
        ${connections.length ? connectionButtons(connections, props.next, props.reauth) : html`<p class="message" role="alert">No sign-in method is set up yet. Ask the person who runs this server.</p>`}`,
    });
  }
  return layout({
    title: 'Sign in',
    nonce: props.nonce,
    requestId: props.requestId,
    body: html`<h1>Sign in</h1>
      ${props.error ? html`<p class="message" role="alert" id="login-error">${props.error}</p>` : ''}
      ${connections.length ? html`${connectionButtons(connections, props.next, props.reauth)}<p class="muted small sso-or">or with your Tollgate password</p>` : ''}
      <form method="post" action="/login">
        <input type="hidden" name="${CSRF_FIELD}" value="${props.csrf}" />
        <input type="hidden" name="next" value="${props.next}" />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${props.email ?? ''}" ${focusPassword ? '' : 'autofocus'} ${props.error ? html`aria-describedby="login-error"` : ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" ${focusPassword ? 'autofocus' : ''} />
        <div class="actions"><button class="primary" type="submit">Sign in</button></div>
      </form>
      ${props.passwordReset
        ? html`<p class="muted small"><a href="${PASSWORD_RESET_PATH}">Forgot your password?</a></p>`
        : html`<p class="muted small">Forgot your password? Ask the person who runs this server to reset it.</p>`}`,
  });
}

/** Password sign-ins on the web page, by outcome: `ok`, `failed` (wrong email or password), `throttled` (429). */
const signIns = counter('tollgate_sign_ins_total', 'Password sign-ins, by outcome (ok, failed, throttled).', ['outcome']);
for (const o of ['ok', 'failed', 'throttled']) signIns.child(o);

export function mountLogin(app: Hono<AppEnv>, deps: Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'twoFactor' | 'pendingSignIn' | 'mail' | 'identity' | 'audit'>): void {
  const { loginMaxFailures: max, loginWindowSeconds: window } = deps.config;
  const throttle = deps.oauth.throttle;

  const show = async (c: Context<AppEnv>, next: string, status: 200 | 400 | 401 | 403 | 429, extra: { email?: string; error?: string; reauth?: boolean } = {}) => {
    const connections = await deps.identity.connections.listConnections();
    const passwords = deps.config.localPasswords;
    return c.html(renderLoginPage({ csrf: deps.csrf.token(c, false), next, nonce: c.get('cspNonce'), requestId: c.get('requestId'), connections, passwords, passwordReset: deps.mail.configured, ...extra }), status);
  };

  app.get('/login', async (c) => {
    const next = safeNextPath(c.req.query('next'));
    const session = await readSession(c, deps);
    // `reauth=1`: an app asked for a fresh sign-in (OpenID Connect prompt=login or max_age); the form, prefilled.
    if (session && c.req.query('reauth') !== '1') return c.redirect(next, 303);
    return show(c, next, 200, session ? { email: session.user.email, reauth: true } : {});
  });

  app.post('/login', async (c) => {
    const form = await readForm(c);
    const next = safeNextPath(form.next);
    // TOLLGATE_LOCAL_PASSWORDS=false: the form is gone, and a hand-made POST is refused too.
    if (!deps.config.localPasswords) return show(c, next, 403, { error: 'Password sign-in is turned off on this server. Use one of the sign-in methods below.' });
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
      signIns.child('throttled').inc();
      countRateLimited('sign_in');
      const wait = retryAfter < 90 ? `${retryAfter} seconds` : `${Math.ceil(retryAfter / 60)} minutes`;
      return show(c, next, 429, { email, error: `Too many failed sign-in attempts. Try again in ${wait}.` });
    }
    const user = email && email === plainEmail && form.password ? await deps.accounts.users.authenticate(email, form.password.slice(0, 1024)) : undefined;
    if (!user) {
      await throttle.hit(accountKey, window);
      await throttle.hit(ipKey, window);
      c.get('log').info({ event: 'login_failed' }, 'sign-in failed');
      signIns.child('failed').inc();
      // The address tried (never the password): who is being guessed at, from where.
      await deps.audit.record({ ...webAuditContext(c, deps.config.trustedProxyHops), action: 'signin.failed', target: { type: 'email', id: normalizeEmail(plainEmail).slice(0, 320) || '(empty)' } });
      return show(c, next, 401, { email, error: GENERIC_LOGIN_ERROR });
    }
    await throttle.clear(accountKey);
    signIns.child('ok').inc();
    // The session (and its signin.succeeded record) starts there, after the second factor when there is one.
    return finishPasswordSignIn(c, deps, user, next);
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
