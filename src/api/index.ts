// The management API's public face: its keys service (for the CLI and the admin pages) and mountApi (for app.ts).
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Store } from '../store/store.ts';
import type { ApiDeps } from './deps.ts';
import { apiKeysService } from './keys.ts';
import { idempotencyStore } from './idempotency.ts';
import { openApiDocument } from './openapi.ts';
import type { Operation } from './operation.ts';
import { renderReferencePage } from './reference-page.ts';
import { mountApiRouter } from './router.ts';
import { auditOperations } from './operations/audit.ts';
import { clientOperations } from './operations/clients.ts';
import { creditOperations } from './operations/credits.ts';
import { grantOperations } from './operations/grants.ts';
import { invitationOperations } from './operations/invitations.ts';
import { memberOperations } from './operations/members.ts';
import { pricingOperations } from './operations/pricing.ts';
import { usageOperations } from './operations/usage.ts';
import { workspaceOperations } from './operations/workspaces.ts';

export type { ApiDeps } from './deps.ts';
export type { ApiKey, ApiKeysService } from './keys.ts';
export { ApiKeyError, API_KEY_PREFIX } from './keys.ts';
export { apiMigrations } from './migrations.ts';
export { API_PREFIX } from './router.ts';

export function apiModule(store: Store) {
  return { keys: apiKeysService(store) };
}

export type ApiModule = ReturnType<typeof apiModule>;

/** Every operation of the API, in the order the document lists them. */
export function apiOperations(deps: ApiDeps): Operation[] {
  return [
    ...workspaceOperations(deps),
    ...memberOperations(deps),
    ...invitationOperations(deps),
    ...creditOperations(deps, idempotencyStore(deps.store)),
    ...pricingOperations(deps),
    ...clientOperations(deps),
    ...grantOperations(deps),
    ...usageOperations(deps),
    ...auditOperations(deps),
  ];
}

export function mountApi(app: Hono<AppEnv>, deps: ApiDeps): void {
  const operations = apiOperations(deps);
  const document = openApiDocument(operations, deps.config.publicUrl);
  const documentText = JSON.stringify(document);
  const page = renderReferencePage(document as Parameters<typeof renderReferencePage>[0]);
  mountApiRouter(app, deps, operations, {
    publicRoutes: {
      '/openapi.json': () => new Response(documentText, { headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' } }),
      '/docs': (c) => c.html(page),
    },
  });
}
