// Browserless helpers for the web UI tests: sign in through the real form, load a page, submit one of its forms
// with the page's own CSRF token, and find the CSRF token and text on a page.
import { browserRequest, CookieJar, parseForms, type PageResponse } from './oauth-flow.ts';

export { CookieJar };

/** Signs in through /login (CSRF token from the form); returns the jar carrying the session. */
export async function signIn(base: string, email: string, password: string, jar = new CookieJar()): Promise<CookieJar> {
  const page = await browserRequest(jar, `${base}/login`);
  const form = parseForms(page.body, page.url).find((f) => new URL(f.action).pathname === '/login');
  if (!form) throw new Error('no sign-in form');
  const r = await browserRequest(jar, form.action, { form: { ...form.fields, email, password } });
  if (r.status !== 303) throw new Error(`sign-in as ${email} failed with HTTP ${r.status}`);
  return jar;
}

export const getPage = (jar: CookieJar, url: string): Promise<PageResponse> => browserRequest(jar, url);

/** The session's CSRF token, read from any form on a signed-in page (the sign-out form is on every one). */
export function csrfOf(page: PageResponse): string {
  const token = parseForms(page.body, page.url).map((f) => f.fields.csrf_token).find(Boolean);
  if (!token) throw new Error(`no CSRF token on ${page.url}`);
  return token;
}

/** POSTs a form (fields as given: add `csrf_token` yourself, or use `submit`). */
export const postForm = (jar: CookieJar, url: string, fields: Record<string, string>): Promise<PageResponse> => browserRequest(jar, url, { form: fields });

/** Loads `pageUrl`, then POSTs `fields` plus its CSRF token to `action` (absolute or relative to the page). */
export async function submit(jar: CookieJar, pageUrl: string, action: string, fields: Record<string, string> = {}): Promise<PageResponse> {
  const page = await getPage(jar, pageUrl);
  return postForm(jar, new URL(action, pageUrl).toString(), { csrf_token: csrfOf(page), ...fields });
}

/** The visible text of a page (tags stripped, whitespace collapsed). */
export function textOf(body: string): string {
  return body
    .replace(/<script[\s\S]*?<\/script>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}
