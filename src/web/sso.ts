// "Sign in with …": the browser side of signing in through a sign-in connection (identity/sign-in.ts decides).
//   GET /login/sso/<name>           → the provider (state bound to this browser by a cookie)
//   GET /login/sso/<name>/callback  → a fresh session, or a page that says what went wrong (never a 500)
import { webAuditContext } from './audit-context.ts';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../http/env.ts';
import { SignInRefusal, type RefusalKind } from '../identity/index.ts';
import { clientIp } from '../oauth/index.ts';
import type { PageDeps } from './deps.ts';
import { messagePage } from './layout.ts';
import { safeNextPath } from './login.ts';
import { readSession, secureCookies } from './session.ts';
import { startSignedInSession } from './sign-in-steps.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

export const SSO_STATE_COOKIE = 'tollgate_sso_state';
const COOKIE_PATH = '/login/sso';

const TITLES: Record<RefusalKind, string> = {
  denied: 'Sign-in cancelled',
  provider_error: 'The provider could not sign you in',
  provider_unreachable: 'The provider is not answering',
  tampered: 'This sign-in cannot be completed',
  replayed: 'This sign-in link was already used',
  invalid_token: 'The provider\'s answer could not be trusted',
  unverified_email: 'Your e-mail address is not verified',
  no_email: 'No e-mail address',
  account_exists: 'An account with this address exists',
  already_linked: 'Already linked to another account',
  unknown_connection: 'Unknown sign-in method',
};
const STATUS: Record<RefusalKind, 400 | 403 | 404 | 502> = {
  denied: 403,
  provider_error: 502,
  provider_unreachable: 502,
  tampered: 400,
  replayed: 400,
  invalid_token: 400,
  unverified_email: 403,
  no_email: 403,
  account_exists: 403,
  already_linked: 403,
  unknown_connection: 404,
};

type SsoDeps = Pick<PageDeps, 'config' | 'accounts' | 'identity' | 'oauth' | 'audit'>;

export function refusalPage(c: Context<AppEnv>, refusal: SignInRefusal): Response | Promise<Response> {
  c.get('log').info({ event: 'sso_refused', kind: refusal.kind }, 'sign-in through a connection refused');
  return c.html(
    messagePage({ title: TITLES[refusal.kind], message: refusal.message, nonce: c.get('cspNonce'), requestId: c.get('requestId'), links: [{ href: '/login', label: 'Back to sign-in' }] }),
    STATUS[refusal.kind],
  );
}

/** Sends the browser to the provider; `linkUserId` when a signed-in person links it to their account. */
export async function redirectToProvider(c: Context<AppEnv>, deps: SsoDeps, name: string, next: string, linkUserId?: string, freshSignIn = false): Promise<Response> {
  // Each start stores a pending sign-in: a per-IP budget keeps a stranger from filling the table with them.
  const window = deps.config.loginWindowSeconds;
  const ipKey = `sso:start:${clientIp(c, deps.config.trustedProxyHops)}`;
  if ((await deps.oauth.throttle.count(ipKey, window)) >= deps.config.ssoStartsPerIp) {
    const retryAfter = deps.oauth.throttle.retryAfter(window);
    countRateLimited('sso_start');
    c.header('Retry-After', String(retryAfter));
    return c.html(messagePage({ title: 'Too many sign-ins', message: `Too many sign-ins were started from your network. Try again in ${Math.ceil(retryAfter / 60)} minutes.`, nonce: c.get('cspNonce'), requestId: c.get('requestId') }), 429);
  }
  await deps.oauth.throttle.hit(ipKey, window);
  try {
    const { location, state } = await deps.identity.signIn.start(name, { next, linkUserId, freshSignIn });
    setCookie(c, SSO_STATE_COOKIE, state, { httpOnly: true, sameSite: 'Lax', secure: secureCookies(deps.config), path: COOKIE_PATH, maxAge: 3600 });
    return c.redirect(location, 302);
  } catch (err) {
    if (err instanceof SignInRefusal) return refusalPage(c, err);
    throw err;
  }
}

export function mountSso(app: Hono<AppEnv>, deps: SsoDeps): void {
  app.get('/login/sso/:name', async (c) => redirectToProvider(c, deps, c.req.param('name'), safeNextPath(c.req.query('next')), undefined, c.req.query('reauth') === '1'));

  app.get('/login/sso/:name/callback', async (c) => {
    const stateCookie = getCookie(c, SSO_STATE_COOKIE);
    // The state is single use whatever happens next.
    deleteCookie(c, SSO_STATE_COOKIE, { path: COOKIE_PATH, secure: secureCookies(deps.config) });
    let result;
    try {
      result = await deps.identity.signIn.finish(c.req.param('name'), new URL(c.req.url).searchParams, stateCookie, webAuditContext(c, deps.config.trustedProxyHops));
    } catch (err) {
      if (err instanceof SignInRefusal) return refusalPage(c, err);
      throw err;
    }
    if (result.linked && !result.created && (await readSession(c, deps))?.user.id === result.user.id) {
      // Linking from the account page: the session stays the one the person proved with.
      return c.redirect(safeNextPath(result.next), 303);
    }
    const { cookieValue, expiresAt } = await startSignedInSession(c, deps, result.user, `sso:${result.connection.name}`);
    await deps.identity.links.recordSession(cookieValue, result.connection.id, expiresAt);
    return c.redirect(safeNextPath(result.next), 303);
  });
}
