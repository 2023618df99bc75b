// CSRF tokens for every form: an HMAC of the session cookie (signed in) or of a random pre-session cookie (the
// sign-in form), so a token is useless in any other browser. Nothing is stored on the server.
import { createHmac, hkdfSync } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { randomToken, safeEqual } from '../util/ids.ts';
import { sessionCookieValue } from './session.ts';

export const PRE_SESSION_COOKIE = 'tollgate_csrf';
export const CSRF_FIELD = 'csrf_token';

export interface CsrfGuard {
  /**
   * The token for a form on this response. `signedIn` says which cookie binds it: the session (when the page is
   * shown to a signed-in user) or the pre-session cookie, which is set here when missing.
   */
  token(c: Context, signedIn: boolean): string;
  /** True when the submitted token matches this browser's cookie. */
  verify(c: Context, submitted: string | undefined, signedIn: boolean): boolean;
}

/** The guard for one server: its key is derived from the server secret once, here. */
export function csrfGuard(secret: string, options: { secureCookies: boolean }): CsrfGuard {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'tollgate:csrf', 32));
  const sign = (kind: string, binding: string): string => createHmac('sha256', key).update(`${kind}:${binding}`).digest('base64url');
  return {
    token(c, signedIn) {
      if (signedIn) return sign('session', sessionCookieValue(c) ?? '');
      let pre = getCookie(c, PRE_SESSION_COOKIE);
      if (!pre || pre.length > 128) {
        pre = randomToken(24);
        setCookie(c, PRE_SESSION_COOKIE, pre, { httpOnly: true, sameSite: 'Lax', secure: options.secureCookies, path: '/' });
      }
      return sign('pre', pre);
    },
    verify(c, submitted, signedIn) {
      if (!submitted || submitted.length > 128) return false;
      const binding = signedIn ? sessionCookieValue(c) : getCookie(c, PRE_SESSION_COOKIE);
      if (!binding) return false;
      return safeEqual(submitted, sign(signedIn ? 'session' : 'pre', binding));
    },
  };
}
