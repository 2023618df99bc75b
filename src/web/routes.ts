// Server-rendered pages: sign-in, consent, the workspace home and dashboards, and the operator's admin pages.
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Services } from '../services.ts';
import { mountAssets } from './assets.ts';
import { mountConsent } from './consent.ts';
import { mountLogin } from './login.ts';
import { mountAdmin } from './pages/admin.ts';
import { mountApps } from './pages/apps.ts';
import { mountClients } from './pages/clients.ts';
import { mountDashboard } from './pages/dashboard.ts';
import { mountHome } from './pages/home.ts';
import { mountLedger } from './pages/ledger.ts';
import { mountMembers } from './pages/members.ts';
import { workspaceClientsService } from './workspace-clients.ts';

export function mountWeb(app: Hono<AppEnv>, services: Services): void {
  const workspaceClients = workspaceClientsService(services.store);
  mountAssets(app);
  mountLogin(app, services);
  mountConsent(app, services, workspaceClients);
  mountHome(app, services);
  mountAdmin(app, services, workspaceClients);
  // Fixed paths before `/dashboard/:ws/...` patterns that could shadow them.
  mountApps(app, services, workspaceClients);
  mountClients(app, services, workspaceClients);
  mountLedger(app, services);
  mountMembers(app, services);
  mountDashboard(app, services);
}
