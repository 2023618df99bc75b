// What follows a correct password: a session at once, or first the second factor. An account with two-factor on is
// asked for its code; an operator without it, where TOLLGATE_REQUIRE_ADMIN_TWO_FACTOR is on, is sent to enrolment
// and gets a session only once it is set up. Any other sign-in method that ends in a session can call this too.
import type { User } from '../accounts/index.ts';
import type { PageDeps } from './deps.ts';
import type { Ctx } from './page-context.ts';
import { startSession } from './session.ts';
import { webAuditContext } from './audit-context.ts';

export const TWO_FACTOR_PATH = '/login/two-factor';
export const ENROL_PATH = '/account/two-factor';

/** Starts the session of someone who has signed in, and records the sign-in (`method`: how they proved it). */
export async function startSignedInSession(
  c: Ctx,
  deps: Pick<PageDeps, 'config' | 'accounts' | 'audit'>,
  user: Pick<User, 'id' | 'email'>,
  method: string,
): Promise<{ cookieValue: string; expiresAt: number }> {
  const session = await startSession(c, deps, user.id);
  await deps.audit.record({ ...webAuditContext(c, deps.config.trustedProxyHops, user), action: 'signin.succeeded', target: { type: 'user', id: user.id }, after: { method } });
  return session;
}

export async function finishPasswordSignIn(c: Ctx, deps: Pick<PageDeps, 'config' | 'accounts' | 'twoFactor' | 'pendingSignIn' | 'audit'>, user: User, next: string): Promise<Response> {
  const status = await deps.twoFactor.status(user.id);
  if (status === 'on') {
    deps.pendingSignIn.start(c, { userId: user.id, step: 'code', next });
    return c.redirect(TWO_FACTOR_PATH, 303);
  }
  if (user.isAdmin && deps.config.requireAdminTwoFactor) {
    deps.pendingSignIn.start(c, { userId: user.id, step: 'enrol', next });
    return c.redirect(ENROL_PATH, 303);
  }
  await startSignedInSession(c, deps, user, 'password');
  return c.redirect(next, 303);
}
