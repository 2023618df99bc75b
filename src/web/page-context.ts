// What every signed-in page needs before it renders: the user (or a trip to the sign-in page), their workspaces,
// the role in the workspace being shown (non-members get the same 404 as a workspace that does not exist), and for
// each POST a well-formed form body that carries this session's CSRF token.
import { mediaType } from '../util/media-type.ts';
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Role, Session, User, Workspace } from '../accounts/index.ts';
import { CSRF_FIELD } from './csrf.ts';
import type { PageDeps } from './deps.ts';
import { messagePage } from './layout.ts';
import { readSession, sessionCookieValue } from './session.ts';
import { UserFacingError } from '../util/errors.ts';

export type Ctx = Context<AppEnv>;

/** What the signed-in checks use: the session and the user's workspaces, and the CSRF guard. */
export type SignedInDeps = Pick<PageDeps, 'accounts' | 'csrf'>;

export interface SignedIn {
  session: Session;
  user: User;
  csrf: string;
  workspaces: (Workspace & { role: Role })[];
}

export interface MemberAccess extends SignedIn {
  workspace: Workspace;
  role: Role;
}

/** Owners and admins manage a workspace's apps and clients; members only look. */
export const canManage = (role: Role): boolean => role === 'owner' || role === 'admin';
/** Only owners manage members. */
export const isOwner = (role: Role): boolean => role === 'owner';

export function showMessage(c: Ctx, status: 400 | 401 | 403 | 404 | 429, title: string, message: string, links?: { href: string; label: string }[]): Response | Promise<Response> {
  return c.html(messagePage({ title, message, nonce: c.get('cspNonce'), requestId: c.get('requestId'), links }), status);
}

export const notFoundPage = (c: Ctx) => showMessage(c, 404, 'Not found', 'There is nothing here, or you do not have access to it.', [{ href: '/', label: 'Your workspaces' }]);

/** The signed-in user, or a response: GET goes to sign-in (and comes back), anything else gets a 401 page. */
export async function requireUser(c: Ctx, deps: SignedInDeps): Promise<SignedIn | Response> {
  const session = await readSession(c, deps);
  if (!session) {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    return showMessage(c, 401, 'Signed out', 'Your session has ended. Sign in again and retry.', [{ href: '/login', label: 'Sign in' }]);
  }
  return {
    session,
    user: session.user,
    csrf: deps.csrf.token(c, true),
    workspaces: await deps.accounts.workspaces.listWorkspacesForUser(session.user.id),
  };
}

/** A workspace the signed-in user is a member of; otherwise 404 (whether or not the workspace exists). */
export async function requireMember(c: Ctx, deps: SignedInDeps & Partial<Pick<PageDeps, 'identity'>>, slug: string): Promise<MemberAccess | Response> {
  const signedIn = await requireUser(c, deps);
  if (signedIn instanceof Response) return signedIn;
  const membership = slug.length <= 40 ? signedIn.workspaces.find((w) => w.slug === slug) : undefined;
  if (!membership) return notFoundPage(c);
  // A workspace that requires a sign-in connection is closed to sessions signed in otherwise (docs/identity.md).
  const verdict = deps.identity && (await deps.identity.workspaceAccess(sessionCookieValue(c)))(membership.id);
  if (verdict && !verdict.allowed) {
    const url = new URL(c.req.url);
    return showMessage(c, 403, 'Sign in with your organization', `The workspace "${membership.name}" accepts only people who signed in with ${verdict.connectionLabel}.`, [
      { href: `/login/sso/${verdict.connectionName}?next=${encodeURIComponent(url.pathname)}`, label: `Sign in with ${verdict.connectionLabel}` },
    ]);
  }
  const { role, ...workspace } = membership;
  return { ...signedIn, workspace, role };
}

/** The operator (users.is_admin); anyone else gets 403. */
export async function requireOperator(c: Ctx, deps: SignedInDeps): Promise<SignedIn | Response> {
  const signedIn = await requireUser(c, deps);
  if (signedIn instanceof Response) return signedIn;
  if (!signedIn.user.isAdmin) return showMessage(c, 403, 'Operators only', 'These pages are for the people who run this Tollgate server.', [{ href: '/', label: 'Your workspaces' }]);
  return signedIn;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The POSTed form, as single values, after checking the CSRF token against this session. Any other body (wrong
 * type, a repeated field, a missing or foreign token) gets an HTML error page instead of a form.
 */
export async function readPostForm(c: Ctx, deps: Pick<PageDeps, 'csrf'>): Promise<Record<string, string> | Response> {
  if (mediaType(c.req.header('content-type')) !== FORM_TYPE) return showMessage(c, 400, 'Invalid request', 'This form was not sent the way the page sends it. Reload the page and try again.');
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(await c.req.text())) {
    if (k in out) return showMessage(c, 400, 'Invalid request', 'A form field was sent more than once. Reload the page and try again.');
    out[k] = v;
  }
  if (!deps.csrf.verify(c, out[CSRF_FIELD], true)) {
    return showMessage(c, 403, 'Form expired', 'This form has expired or did not come from this site. Reload the page and try again.');
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** True for text a person could have typed into a one-line field (no control characters, NUL included). */
export const isPlainText = (v: string): boolean => !CONTROL.test(v);

/**
 * A trimmed one-line text field of at most `max` characters; undefined when it is longer (an error, not silently
 * cut) or holds control characters.
 */
export function textField(form: Record<string, string>, name: string, max: number): string | undefined {
  const v = (form[name] ?? '').trim();
  return v.length > max || !isPlainText(v) ? undefined : v;
}

/** A form value a person has to correct; its message is shown on the page (like AccountsError and CreditsError). */
export class FormError extends UserFacingError {}
