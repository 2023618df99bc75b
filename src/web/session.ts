// The sign-in session cookie. The cookie carries a random id; the database keeps only its hash (accounts/sessions).
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Session } from '../accounts/index.ts';
import type { WebConfig, WebDeps } from './deps.ts';

export const SESSION_COOKIE = 'tollgate_session';

type SessionDeps = { readonly accounts: Pick<WebDeps['accounts'], 'sessions'> };
type CookieDeps = SessionDeps & { readonly config: Pick<WebConfig, 'publicUrl' | 'sessionTtlSeconds'> };

export const secureCookies = (config: Pick<WebConfig, 'publicUrl'>): boolean => config.publicUrl.startsWith('https://');

export function sessionCookieValue(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The signed-in user's session, or undefined (no cookie, unknown, expired). */
export async function readSession(c: Context, deps: SessionDeps): Promise<Session | undefined> {
  return deps.accounts.sessions.getSession(sessionCookieValue(c));
}

/** Starts a fresh session (a new id at every sign-in: no session fixation); returns the cookie value and expiry. */
export async function startSession(c: Context, deps: CookieDeps, userId: string): Promise<{ cookieValue: string; expiresAt: number }> {
  await deps.accounts.sessions.deleteSession(sessionCookieValue(c));
  const { cookieValue, expiresAt } = await deps.accounts.sessions.createSession(userId);
  setCookie(c, SESSION_COOKIE, cookieValue, {
    httpOnly: true,
    // Lax: the cookie rides along on the top-level navigation an MCP client opens to /authorize.
    sameSite: 'Lax',
    secure: secureCookies(deps.config),
    path: '/',
    maxAge: deps.config.sessionTtlSeconds,
  });
  return { cookieValue, expiresAt };
}

export async function endSession(c: Context, deps: CookieDeps): Promise<void> {
  await deps.accounts.sessions.deleteSession(sessionCookieValue(c));
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secureCookies(deps.config) });
}
