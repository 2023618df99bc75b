// Workspaces: create (with an external id), get, list (cursor paging, or find by external id), update, suspend,
// resume, delete.
import { AccountsError } from '../../accounts/index.ts';
import { recordAudit } from '../../audit/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { decodeCursor, encodeCursor } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { EXTERNAL_ID_SCHEMA, pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { workspaceView } from '../views.ts';

const WS = { workspace: WORKSPACE_SLUG_SCHEMA };
const NAME = { type: 'string', minLength: 1, maxLength: 200 };

export function workspaceOperations(deps: ApiDeps): Operation[] {
  const { accounts, credits, oauth } = deps;

  /**
   * Revokes these grants through the OAuth module (heard by every process), in `trx` when given. The list is read
   * before the transaction: on SQLite a read outside the open transaction would wait for it.
   */
  async function revokeGrants(grants: readonly { id: string }[], reason: string, trx?: unknown): Promise<void> {
    for (const g of grants) await oauth.grants.revokeGrant(g.id, reason, trx as never);
  }
  /** An external id already taken is a conflict; any other refusal of the accounts module is bad input. */
  const accountsProblem = (err: unknown): never => {
    if (err instanceof AccountsError) throw new ApiProblem(err.code === 'external_id_taken' || err.code === 'slug_taken' ? 'conflict' : err.code === 'not_found' ? 'not_found' : 'invalid_request', err.message);
    throw err;
  };

  return [
    define({
      operationId: 'listWorkspaces',
      method: 'get',
      path: '/workspaces',
      tag: 'Workspaces',
      summary: 'List workspaces (slug order), or find one by its external id',
      description: 'A key for one workspace sees that workspace only.',
      access: 'read',
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY, external_id: EXTERNAL_ID_SCHEMA } },
      response: { status: 200, description: 'A page of workspaces', schema: pageOf('Workspace') },
      async handle({ query, key }) {
        const limit = query.limit as number;
        if (query.external_id !== undefined || key.workspaceId) {
          const ws = query.external_id !== undefined ? await accounts.workspaces.findWorkspaceByExternalId(query.external_id as string) : await accounts.workspaces.getWorkspace(key.workspaceId!);
          const visible = ws && (!key.workspaceId || ws.id === key.workspaceId) ? [ws] : [];
          return { status: 200, body: { data: await Promise.all(visible.map((w) => workspaceView(deps, w))), next_cursor: null } };
        }
        const after = decodeCursor(query.cursor as string | undefined);
        const rows = await accounts.workspaces.listWorkspacesPage({ after, limit: limit + 1 });
        const page = rows.slice(0, limit);
        return { status: 200, body: { data: await Promise.all(page.map((w) => workspaceView(deps, w))), next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!.slug) : null } };
      },
    }),
    define({
      operationId: 'createWorkspace',
      method: 'post',
      path: '/workspaces',
      tag: 'Workspaces',
      summary: 'Create a workspace (it starts with the configured initial credits)',
      description: 'With an `external_id` another workspace already has, answers 409 and changes nothing: retrying a sign-up is safe.',
      access: 'write',
      deploymentKeyOnly: true,
      body: { type: 'object', additionalProperties: false, required: ['slug'], properties: { slug: WORKSPACE_SLUG_SCHEMA, name: NAME, external_id: EXTERNAL_ID_SCHEMA } },
      response: { status: 201, description: 'The new workspace', schema: ref('Workspace') },
      problems: [409],
      async handle({ body, audit }) {
        if (body.external_id !== undefined) {
          const existing = await accounts.workspaces.findWorkspaceByExternalId(body.external_id);
          if (existing) throw new ApiProblem('conflict', `Workspace "${existing.slug}" already has this external id`, { extra: { workspace: existing.slug } });
        }
        let ws;
        try {
          // workspace.created: its outbox event and audit record commit with the workspace (accounts module).
          ws = await deps.createWorkspace({ slug: body.slug, name: body.name }, audit);
        } catch (err) {
          if (err instanceof AccountsError && err.code === 'slug_taken') throw new ApiProblem('conflict', err.message);
          throw err;
        }
        if (body.external_id !== undefined) {
          try {
            ws = await accounts.workspaces.setWorkspaceExternalId(ws.id, body.external_id, audit);
          } catch (err) {
            // A concurrent sign-up took the external id between the check and here: undo this one.
            await accounts.workspaces.deleteWorkspace(ws.id, audit);
            return accountsProblem(err);
          }
        }
        return { status: 201, body: await workspaceView(deps, ws), headers: { Location: `/api/v1/workspaces/${ws.slug}` } };
      },
    }),
    define({
      operationId: 'getWorkspace',
      method: 'get',
      path: '/workspaces/{workspace}',
      tag: 'Workspaces',
      summary: 'Get a workspace',
      access: 'read',
      params: WS,
      response: { status: 200, description: 'The workspace', schema: ref('Workspace') },
      async handle({ workspace }) {
        return { status: 200, body: await workspaceView(deps, workspace) };
      },
    }),
    define({
      operationId: 'updateWorkspace',
      method: 'patch',
      path: '/workspaces/{workspace}',
      tag: 'Workspaces',
      summary: 'Rename a workspace or set its external id (null clears it); the slug never changes',
      access: 'write',
      deploymentKeyOnly: true,
      params: WS,
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name: NAME, external_id: { anyOf: [EXTERNAL_ID_SCHEMA, { type: 'null' }] } } },
      response: { status: 200, description: 'The updated workspace', schema: ref('Workspace') },
      problems: [409],
      async handle({ workspace, body, audit }) {
        // One transaction: the name, the external id and their audit record (before and after) commit together.
        const updated = await accounts.workspaces.updateWorkspace(workspace.id, { name: body.name, externalId: body.external_id }, audit).catch(accountsProblem);
        return { status: 200, body: await workspaceView(deps, updated) };
      },
    }),
    define({
      operationId: 'suspendWorkspace',
      method: 'post',
      path: '/workspaces/{workspace}/suspend',
      tag: 'Workspaces',
      summary: 'Suspend a workspace: its tool calls are refused and every grant is revoked (clients must sign in again)',
      access: 'write',
      deploymentKeyOnly: true,
      params: WS,
      response: { status: 200, description: 'The suspended workspace', schema: ref('Workspace') },
      async handle({ workspace, audit }) {
        // One transaction: the suspension, the revocations (with their grant.revoked events) and the audit record
        // commit together (and are announced on commit). A grant made while this runs is refused its tool calls by
        // the suspension all the same.
        const live = await oauth.grants.listGrantsForWorkspace(workspace.id);
        await credits.setSuspended(workspace.id, true, async (trx) => {
          await revokeGrants(live, 'workspace suspended', trx);
          await recordAudit(trx, { ...audit, action: 'workspace.suspended', target: { type: 'workspace', id: workspace.id }, workspaceId: workspace.id, after: { suspended: true, grants_revoked: live.length } });
        });
        return { status: 200, body: await workspaceView(deps, workspace) };
      },
    }),
    define({
      operationId: 'resumeWorkspace',
      method: 'post',
      path: '/workspaces/{workspace}/resume',
      tag: 'Workspaces',
      summary: 'Resume a suspended workspace (its users authorize their clients again)',
      access: 'write',
      deploymentKeyOnly: true,
      params: WS,
      response: { status: 200, description: 'The workspace', schema: ref('Workspace') },
      async handle({ workspace, audit }) {
        await credits.setSuspended(workspace.id, false, async (trx) => {
          await recordAudit(trx, { ...audit, action: 'workspace.resumed', target: { type: 'workspace', id: workspace.id }, workspaceId: workspace.id, after: { suspended: false } });
        });
        return { status: 200, body: await workspaceView(deps, workspace) };
      },
    }),
    define({
      operationId: 'deleteWorkspace',
      method: 'delete',
      path: '/workspaces/{workspace}',
      tag: 'Workspaces',
      summary: 'Delete a workspace with its members, credits, ledger and grants (revoked first)',
      access: 'write',
      deploymentKeyOnly: true,
      params: WS,
      response: { status: 200, description: 'The workspace as it was', schema: ref('Workspace') },
      async handle({ workspace, audit }) {
        const view = await workspaceView(deps, workspace);
        await revokeGrants(await oauth.grants.listGrantsForWorkspace(workspace.id), 'workspace deleted');
        // workspace.deleted is recorded in the accounts module's transaction (the trail outlives the workspace).
        await accounts.workspaces.deleteWorkspace(workspace.id, audit);
        return { status: 200, body: view };
      },
    }),
  ];
}
