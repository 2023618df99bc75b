// Server-rendered pages: sign-in, consent, the workspace home and dashboards, and the operator's admin pages.
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { mountAssets } from './assets.ts';
import { mountConsent } from './consent.ts';
import { mountDevice } from './device.ts';
import { csrfGuard } from './csrf.ts';
import type { PageDeps, WebDeps } from './deps.ts';
import { mountLogin } from './login.ts';
import { mountAdmin } from './pages/admin.ts';
import { mountAdminApi } from './pages/admin-api.ts';
import { mountAdminWebhooks } from './pages/admin-webhooks.ts';
import { mountAudit } from './pages/audit.ts';
import { mountAdminUpstreams } from './pages/admin-upstreams.ts';
import { mountApps } from './pages/apps.ts';
import { mountClients } from './pages/clients.ts';
import { mountDashboard } from './pages/dashboard.ts';
import { mountHome } from './pages/home.ts';
import { mountLedger } from './pages/ledger.ts';
import { mountMembers } from './pages/members.ts';
import { secureCookies } from './session.ts';
import { pendingSignIn } from './pending-sign-in.ts';
import { mountTwoFactor } from './two-factor-pages.ts';
import { mountInvitationAccept } from './invitation-pages.ts';
import { mountPasswordReset } from './password-reset-pages.ts';
import { mountSso } from './sso.ts';
import { mountSignInMethods } from './pages/sign-in-methods.ts';
import { mountAdminSso } from './pages/admin-sso.ts';

export type { WebDeps } from './deps.ts';

export function mountWeb(app: Hono<AppEnv>, deps: WebDeps): void {
  const pages: PageDeps = {
    config: deps.config,
    accounts: deps.accounts,
    oauth: deps.oauth,
    credits: deps.credits,
    identity: deps.identity,
    api: deps.api,
    tools: deps.tools,
    createWorkspace: (input, audit) => deps.createWorkspace(input, audit),
    audit: deps.audit,
    webhooks: deps.webhooks,
    gateway: deps.gateway,
    csrf: csrfGuard(deps.secret, { secureCookies: secureCookies(deps.config) }),
    invitations: deps.invitations,
    passwordResets: deps.passwordResets,
    twoFactor: deps.twoFactor,
    mail: deps.mail,
    pendingSignIn: pendingSignIn(deps.secret, { secureCookies: secureCookies(deps.config) }),
  };
  mountAssets(app);
  mountLogin(app, pages);
  mountTwoFactor(app, pages);
  mountInvitationAccept(app, pages);
  mountPasswordReset(app, pages);
  mountSso(app, pages);
  mountSignInMethods(app, pages);
  mountAdminSso(app, pages);
  mountConsent(app, pages);
  mountDevice(app, pages);
  mountHome(app, pages);
  mountAdmin(app, pages);
  mountAdminApi(app, pages);
  mountAdminWebhooks(app, pages);
  mountAudit(app, pages);
  mountAdminUpstreams(app, pages);
  // Fixed paths before `/dashboard/:ws/...` patterns that could shadow them.
  mountApps(app, pages);
  mountClients(app, pages);
  mountLedger(app, pages);
  mountMembers(app, pages);
  mountDashboard(app, pages);
}
