// Server-rendered pages: sign-in, consent, the workspace home and dashboards, and the operator's admin pages.
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { mountAssets } from './assets.ts';
import { mountConsent } from './consent.ts';
import { csrfGuard } from './csrf.ts';
import type { PageDeps, WebDeps } from './deps.ts';
import { mountLogin } from './login.ts';
import { mountAdmin } from './pages/admin.ts';
import { mountAdminUpstreams } from './pages/admin-upstreams.ts';
import { mountApps } from './pages/apps.ts';
import { mountClients } from './pages/clients.ts';
import { mountDashboard } from './pages/dashboard.ts';
import { mountHome } from './pages/home.ts';
import { mountLedger } from './pages/ledger.ts';
import { mountMembers } from './pages/members.ts';
import { secureCookies } from './session.ts';

export type { WebDeps } from './deps.ts';

export function mountWeb(app: Hono<AppEnv>, deps: WebDeps): void {
  const pages: PageDeps = {
    config: deps.config,
    accounts: deps.accounts,
    oauth: deps.oauth,
    credits: deps.credits,
    gateway: deps.gateway,
    createWorkspace: (input) => deps.createWorkspace(input),
    csrf: csrfGuard(deps.secret, { secureCookies: secureCookies(deps.config) }),
  };
  mountAssets(app);
  mountLogin(app, pages);
  mountConsent(app, pages);
  mountHome(app, pages);
  mountAdmin(app, pages);
  mountAdminUpstreams(app, pages);
  // Fixed paths before `/dashboard/:ws/...` patterns that could shadow them.
  mountApps(app, pages);
  mountClients(app, pages);
  mountLedger(app, pages);
  mountMembers(app, pages);
  mountDashboard(app, pages);
}
