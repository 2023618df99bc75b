// A POSTed form of a page that may be shown before sign-in (invitation, password reset, the sign-in's second step):
// single values, the page's content type, and a CSRF token bound to the session or, signed out, to the pre-session
// cookie. Anything else gets an HTML error page.
import { mediaType } from '../util/media-type.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { showMessage, type Ctx } from './page-context.ts';

export async function readCsrfForm(c: Ctx, deps: Pick<PageDeps, 'csrf'>, signedIn: boolean): Promise<Record<string, string> | Response> {
  if (mediaType(c.req.header('content-type')) !== 'application/x-www-form-urlencoded') {
    return showMessage(c, 400, 'Invalid request', 'This form was not sent the way the page sends it. Reload the page and try again.');
  }
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(await c.req.text())) {
    if (k in out) return showMessage(c, 400, 'Invalid request', 'A form field was sent more than once. Reload the page and try again.');
    out[k] = v;
  }
  if (!deps.csrf.verify(c, out[CSRF_FIELD], signedIn)) {
    return showMessage(c, 403, 'Form expired', 'This form has expired or did not come from this site. Reload the page and try again.');
  }
  return out;
}
