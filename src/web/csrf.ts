// CSRF tokens for every form: an HMAC of the session cookie (signed in) or of a random pre-session cookie (the
// sign-in form), so a token is useless in any other browser. Nothing is stored on the server.
import { createHmac, hkdfSync } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Services } from '../services.ts';
import { randomToken, safeEqual } from '../util/ids.ts';
import { secureCookies, sessionCookieValue } from './session.ts';

export const PRE_SESSION_COOKIE = 'tollgate_csrf';
export const CSRF_FIELD = 'csrf_token';

const keys = new WeakMap<Services, Buffer>();
function csrfKey(services: Services): Buffer {
  let key = keys.get(services);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(services.secret, 'utf8'), Buffer.alloc(0), 'tollgate:csrf', 32));
    keys.set(services, key);
  }
  return key;
}

const sign = (services: Services, kind: string, binding: string): string => createHmac('sha256', csrfKey(services)).update(`${kind}:${binding}`).digest('base64url');

/**
 * The token for a form on this response. `signedIn` says which cookie binds it: the session (when the page is shown
 * to a signed-in user) or the pre-session cookie, which is set here when missing.
 */
export function csrfToken(c: Context, services: Services, signedIn: boolean): string {
  if (signedIn) return sign(services, 'session', sessionCookieValue(c) ?? '');
  let pre = getCookie(c, PRE_SESSION_COOKIE);
  if (!pre || pre.length > 128) {
    pre = randomToken(24);
    setCookie(c, PRE_SESSION_COOKIE, pre, { httpOnly: true, sameSite: 'Lax', secure: secureCookies(services), path: '/' });
  }
  return sign(services, 'pre', pre);
}

/** True when the submitted token matches this browser's cookie. */
export function verifyCsrf(c: Context, services: Services, submitted: string | undefined, signedIn: boolean): boolean {
  if (!submitted || submitted.length > 128) return false;
  const binding = signedIn ? sessionCookieValue(c) : getCookie(c, PRE_SESSION_COOKIE);
  if (!binding) return false;
  return safeEqual(submitted, sign(services, signedIn ? 'session' : 'pre', binding));
}
