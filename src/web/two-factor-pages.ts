// Two-factor pages: the sign-in's second step (`/login/two-factor`: a TOTP code or a recovery code) and the account's
// two-factor settings (`/account/two-factor`: enrolment with the key as text, an otpauth:// link and a QR code; the
// recovery codes, shown once; new codes; turning it off). An operator who must enrol reaches the settings from the
// sign-in with a pending sign-in instead of a session, and gets the session once enrolment is confirmed.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/env.ts';
import { base32Encode, otpauthUri, RECOVERY_CODE_COUNT, type User } from '../accounts/index.ts';
import { clientIp } from '../oauth/index.ts';
import { csrfField, secretBox } from './components.ts';
import type { PageDeps } from './deps.ts';
import { layout, type Html } from './layout.ts';
import { showMessage, type Ctx } from './page-context.ts';
import { readCsrfForm } from './public-form.ts';
import { qrSvg } from './qr-code.ts';
import { readSession, startSession } from './session.ts';
import { ENROL_PATH, startSignedInSession, TWO_FACTOR_PATH } from './sign-in-steps.ts';
import { webAuditContext } from './audit-context.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

type Deps = Pick<PageDeps, 'config' | 'accounts' | 'oauth' | 'csrf' | 'twoFactor' | 'pendingSignIn' | 'audit'>;

/** Who is on the settings page: a signed-in user, or an operator whose sign-in waits for enrolment. */
interface Actor {
  user: User;
  mode: 'session' | 'enrol';
  next: string;
  csrf: string;
}

const IP_FACTOR = 5;

const card = (c: Ctx, title: string, body: Html) => layout({ title, nonce: c.get('cspNonce'), requestId: c.get('requestId'), body });

function codeField(autofocus = true): Html {
  return html`<label for="code">Code <span class="hint">The 6 digits your authenticator app shows, or a recovery code.</span></label>
    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="64" ${autofocus ? 'autofocus' : ''} />`;
}

/** `ABCD EFGH …`: the key as people type it. */
const groupedKey = (key: Buffer) => base32Encode(key).replace(/(.{4})/g, '$1 ').trim();

export function mountTwoFactor(app: Hono<AppEnv>, deps: Deps): void {
  const { twoFactor, pendingSignIn } = deps;
  const throttle = deps.oauth.throttle;
  const { loginMaxFailures: max, loginWindowSeconds: window } = deps.config;
  const issuer = `Tollgate (${new URL(deps.config.publicUrl).host})`;

  // --- the sign-in's second step

  const codePage = (c: Ctx, status: 200 | 400 | 401 | 429, error?: string) =>
    c.html(
      card(
        c,
        'Two-factor sign-in',
        html`<h1>Two-factor sign-in</h1>
          ${error ? html`<p class="message" role="alert" id="code-error">${error}</p>` : ''}
          <form method="post" action="${TWO_FACTOR_PATH}">
            ${csrfField(deps.csrf.token(c, false))}
            ${codeField()}
            <div class="actions"><button class="primary" type="submit">Sign in</button></div>
          </form>
          <p class="muted small">Lost your device? Enter one of your recovery codes instead. <a href="/login">Start over</a></p>`,
      ),
      status,
    );

  app.get(TWO_FACTOR_PATH, (c) => {
    const pending = pendingSignIn.read(c);
    if (!pending || pending.step !== 'code') return c.redirect('/login', 303);
    return codePage(c, 200);
  });

  app.post(TWO_FACTOR_PATH, async (c) => {
    const form = await readCsrfForm(c, deps, false);
    if (form instanceof Response) return form;
    const pending = pendingSignIn.read(c);
    if (!pending || pending.step !== 'code') {
      return showMessage(c, 401, 'Sign-in expired', 'Too much time passed since you entered your password. Sign in again.', [{ href: '/login', label: 'Sign in' }]);
    }
    // Code guesses count against the same limits as password guesses (per account, and per IP).
    const accountKey = `login:2fa:${pending.userId}`;
    const ipKey = `login:ip:${clientIp(c, deps.config.trustedProxyHops)}`;
    if ((await throttle.count(accountKey, window)) >= max || (await throttle.count(ipKey, window)) >= max * IP_FACTOR) {
      countRateLimited('two_factor');
      c.header('Retry-After', String(throttle.retryAfter(window)));
      return codePage(c, 429, 'Too many wrong codes. Wait a few minutes, then try again.');
    }
    const result = await twoFactor.verify(pending.userId, form.code ?? '');
    if (!result.ok) {
      await throttle.hit(accountKey, window);
      await throttle.hit(ipKey, window);
      c.get('log').info({ event: 'two_factor_failed', reason: result.reason }, 'two-factor code refused');
      await deps.audit.record({ ...webAuditContext(c, deps.config.trustedProxyHops), action: 'signin.failed', target: { type: 'user', id: pending.userId }, after: { step: 'two_factor', reason: result.reason } });
      // RFC 6238 §5.2: a code already accepted is refused, even inside its time window.
      return codePage(c, 401, result.reason === 'replayed' ? 'That code was already used. Wait for the next one.' : 'That code is not right. Try again.');
    }
    await throttle.clear(accountKey);
    pendingSignIn.clear(c);
    c.get('log').info({ event: 'two_factor_ok', method: result.method }, 'two-factor sign-in');
    const signedIn = await deps.accounts.users.getUser(pending.userId);
    if (signedIn) await startSignedInSession(c, deps, signedIn, `password+${result.method}`);
    else await startSession(c, deps, pending.userId);
    return c.redirect(pending.next, 303);
  });

  // --- the account's settings

  async function actor(c: Ctx): Promise<Actor | undefined> {
    const session = await readSession(c, deps);
    if (session) return { user: session.user, mode: 'session', next: '/', csrf: deps.csrf.token(c, true) };
    const pending = pendingSignIn.read(c);
    if (pending?.step !== 'enrol') return undefined;
    const user = await deps.accounts.users.getUser(pending.userId);
    return user && { user, mode: 'enrol', next: pending.next, csrf: deps.csrf.token(c, false) };
  }

  const mustKeep = (user: User) => user.isAdmin && deps.config.requireAdminTwoFactor;

  async function enrolPage(c: Ctx, who: Actor, status: 200 | 400, error?: string): Promise<Response> {
    const key = await twoFactor.beginEnrolment(who.user.id);
    const uri = otpauthUri({ issuer, account: who.user.email, key });
    return c.html(
      card(
        c,
        'Set up two-factor sign-in',
        html`<h1>Set up two-factor sign-in</h1>
          ${who.mode === 'enrol' ? html`<p class="flash warn" role="status">This server requires two-factor sign-in for operators. Set it up to finish signing in.</p>` : ''}
          ${error ? html`<p class="message" role="alert">${error}</p>` : ''}
          <ol class="steps">
            <li>Scan this code with an authenticator app (any app that supports TOTP):
              <div class="qr-wrap">${qrSvg(uri, 'QR code of the two-factor key')}</div></li>
            <li>Or enter the key by hand (time-based, 6 digits, every 30 seconds):
              ${secretBox('totp-key', groupedKey(key))}
              <p class="small">On this device: <a href="${uri}">open it in an authenticator app</a>.</p>
              <details><summary class="small">The key as an <code>otpauth://</code> link</summary>${secretBox('totp-uri', uri)}</details></li>
            <li>Enter the code the app shows now:
              <form method="post" action="${ENROL_PATH}/confirm">
                ${csrfField(who.csrf)}
                <label for="code">Code</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="16" />
                <div class="actions"><button class="primary" type="submit">Turn on two-factor sign-in</button></div>
              </form></li>
          </ol>
          ${who.mode === 'session' ? html`<p class="muted small"><a href="/">Not now</a></p>` : ''}`,
      ),
      status,
    );
  }

  async function managePage(c: Ctx, who: Actor, status: 200 | 400 | 401, flash?: { kind: 'ok' | 'error'; text: string }): Promise<Response> {
    const left = await twoFactor.remainingRecoveryCodes(who.user.id);
    return c.html(
      card(
        c,
        'Two-factor sign-in',
        html`<h1>Two-factor sign-in</h1>
          ${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
          <p>Two-factor sign-in is <strong>on</strong> for ${who.user.email}. ${left} of ${RECOVERY_CODE_COUNT} recovery codes left.</p>
          <form method="post" action="${ENROL_PATH}/recovery-codes">
            ${csrfField(who.csrf)}
            <label for="code-new">Code <span class="hint">From your app, to confirm it is you.</span></label>
            <input id="code-new" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="64" />
            <div class="actions"><button type="submit">Make new recovery codes</button></div>
          </form>
          ${mustKeep(who.user)
            ? html`<p class="muted small">Operators of this server must keep two-factor sign-in on.</p>`
            : html`<form method="post" action="${ENROL_PATH}/disable">
                ${csrfField(who.csrf)}
                <label for="code-off">Code</label>
                <input id="code-off" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="64" />
                <div class="actions"><button type="submit" class="danger">Turn off two-factor sign-in</button></div>
              </form>`}
          <p class="muted small"><a href="/">Your workspaces</a></p>`,
      ),
      status,
    );
  }

  function recoveryCodesPage(c: Ctx, codes: string[], next: string): Response | Promise<Response> {
    return c.html(
      card(
        c,
        'Your recovery codes',
        html`<h1>Save your recovery codes</h1>
          <p class="flash ok" role="status">Two-factor sign-in is on.</p>
          <p>If you lose your authenticator, each of these codes signs you in once. They are shown only now: store them somewhere safe.</p>
          <ul class="recovery-codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
          <div class="actions"><a class="button primary" href="${next}">Continue</a></div>`,
      ),
    );
  }

  const signInFirst = (c: Ctx) => c.redirect(`/login?next=${encodeURIComponent(ENROL_PATH)}`, 303);

  app.get(ENROL_PATH, async (c) => {
    const who = await actor(c);
    if (!who) return signInFirst(c);
    if ((await twoFactor.status(who.user.id)) === 'on') {
      if (who.mode === 'enrol') return c.redirect('/login', 303);
      return managePage(c, who, 200);
    }
    return enrolPage(c, who, 200);
  });

  /** The posted form and who posted it (session forms carry the session's token; pending ones the pre-session's). */
  async function posted(c: Ctx): Promise<{ who: Actor; form: Record<string, string> } | Response> {
    const who = await actor(c);
    if (!who) return showMessage(c, 401, 'Signed out', 'Your session has ended. Sign in again and retry.', [{ href: '/login', label: 'Sign in' }]);
    const form = await readCsrfForm(c, deps, who.mode === 'session');
    if (form instanceof Response) return form;
    return { who, form };
  }

  app.post(`${ENROL_PATH}/confirm`, async (c) => {
    const p = await posted(c);
    if (p instanceof Response) return p;
    const codes = await twoFactor.confirmEnrolment(p.who.user.id, p.form.code ?? '', Date.now(), webAuditContext(c, deps.config.trustedProxyHops, p.who.user));
    if (!codes) {
      if ((await twoFactor.status(p.who.user.id)) === 'on') return c.redirect(ENROL_PATH, 303);
      return enrolPage(c, p.who, 400, 'That code is not right. Check the time on your device, and enter the code the app shows now.');
    }
    c.get('log').info({ event: 'two_factor_enabled' }, 'two-factor sign-in turned on');
    if (p.who.mode === 'enrol') {
      pendingSignIn.clear(c);
      await startSignedInSession(c, deps, p.who.user, 'password+totp_enrolled');
    }
    return recoveryCodesPage(c, codes, p.who.mode === 'enrol' ? p.who.next : ENROL_PATH);
  });

  /** A settings change that needs a fresh code (a stolen session alone cannot make codes or turn the factor off). */
  async function withFreshCode(c: Ctx, change: (who: Actor) => Promise<Response>): Promise<Response> {
    const p = await posted(c);
    if (p instanceof Response) return p;
    if (p.who.mode !== 'session') return c.redirect(ENROL_PATH, 303);
    if ((await twoFactor.status(p.who.user.id)) !== 'on') return c.redirect(ENROL_PATH, 303);
    const result = await twoFactor.verify(p.who.user.id, p.form.code ?? '');
    if (!result.ok) return managePage(c, p.who, 401, { kind: 'error', text: result.reason === 'replayed' ? 'That code was already used. Wait for the next one.' : 'That code is not right.' });
    return change(p.who);
  }

  app.post(`${ENROL_PATH}/recovery-codes`, (c) =>
    withFreshCode(c, async (who) => {
      const codes = await twoFactor.regenerateRecoveryCodes(who.user.id, webAuditContext(c, deps.config.trustedProxyHops, who.user));
      return recoveryCodesPage(c, codes ?? [], ENROL_PATH);
    }),
  );

  app.post(`${ENROL_PATH}/disable`, (c) =>
    withFreshCode(c, async (who) => {
      if (mustKeep(who.user)) return managePage(c, who, 400, { kind: 'error', text: 'Operators of this server must keep two-factor sign-in on.' });
      await twoFactor.disable(who.user.id, webAuditContext(c, deps.config.trustedProxyHops, who.user));
      c.get('log').info({ event: 'two_factor_disabled' }, 'two-factor sign-in turned off');
      return c.html(card(c, 'Two-factor sign-in', html`<h1>Two-factor sign-in is off</h1><p><a href="${ENROL_PATH}">Set it up again</a> · <a href="/">Your workspaces</a></p>`));
    }),
  );
}
