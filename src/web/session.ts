// The sign-in session cookie. The cookie carries a random id; the database keeps only its hash (accounts/sessions).
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Session } from '../accounts/sessions.ts';
import type { Services } from '../services.ts';

export const SESSION_COOKIE = 'tollgate_session';

export const secureCookies = (services: Services): boolean => services.config.publicUrl.startsWith('https://');

export function sessionCookieValue(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The signed-in user's session, or undefined (no cookie, unknown, expired). */
export async function readSession(c: Context, services: Services): Promise<Session | undefined> {
  return services.accounts.sessions.getSession(sessionCookieValue(c));
}

/** Starts a fresh session (a new id at every sign-in: no session fixation). */
export async function startSession(c: Context, services: Services, userId: string): Promise<void> {
  await services.accounts.sessions.deleteSession(sessionCookieValue(c));
  const { cookieValue } = await services.accounts.sessions.createSession(userId);
  setCookie(c, SESSION_COOKIE, cookieValue, {
    httpOnly: true,
    // Lax: the cookie rides along on the top-level navigation an MCP client opens to /authorize.
    sameSite: 'Lax',
    secure: secureCookies(services),
    path: '/',
    maxAge: services.config.sessionTtlSeconds,
  });
}

export async function endSession(c: Context, services: Services): Promise<void> {
  await services.accounts.sessions.deleteSession(sessionCookieValue(c));
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secureCookies(services) });
}
