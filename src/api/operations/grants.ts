// Grants (one user's authorization of one client): list per workspace and per user, revoke. Revocation goes
// through the OAuth module, which announces it to every process.
import type { Grant } from '../../oauth/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { pageByKey } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { ID_SCHEMA, pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { grantView, workspaceSlugs } from '../views.ts';

// Newest first with a unique, ascending key: the inverted creation time, then the id.
const newestFirst = (g: Grant) => `${String(9_000_000_000_000_000 - g.createdAt).padStart(16, '0')}:${g.id}`;

export function grantOperations(deps: ApiDeps): Operation[] {
  const { oauth, accounts } = deps;
  const page = (grants: Grant[], query: Record<string, unknown>) =>
    pageByKey(grants.sort((a, b) => (newestFirst(a) < newestFirst(b) ? -1 : 1)), newestFirst, query.limit as number, query.cursor as string | undefined);
  async function slugs(grants: Grant[]): Promise<(id: string) => string | null> {
    const found = await workspaceSlugs(deps, grants.map((g) => g.workspaceId));
    return (id) => found.get(id) ?? null;
  }

  return [
    define({
      operationId: 'listWorkspaceGrants',
      method: 'get',
      path: '/workspaces/{workspace}/grants',
      tag: 'Grants',
      summary: "The workspace's grants, newest first (live ones unless asked)",
      access: 'read',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY, user_id: ID_SCHEMA, include_revoked: { type: 'boolean', default: false } } },
      response: { status: 200, description: 'A page of grants', schema: pageOf('Grant') },
      async handle({ workspace, query }) {
        let grants = await oauth.grants.listGrantsForWorkspace(workspace.id, { includeRevoked: query.include_revoked as boolean });
        if (query.user_id !== undefined) grants = grants.filter((g) => g.userId === query.user_id);
        const p = page(grants, query);
        return { status: 200, body: { data: p.items.map((g) => grantView(g, () => workspace.slug)), next_cursor: p.next_cursor } };
      },
    }),
    define({
      operationId: 'listUserGrants',
      method: 'get',
      path: '/users/{user_id}/grants',
      tag: 'Grants',
      summary: "A user's live grants in every workspace, newest first",
      access: 'read',
      deploymentKeyOnly: true,
      params: { user_id: ID_SCHEMA },
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of grants', schema: pageOf('Grant') },
      async handle({ params, query }) {
        if (!(await accounts.users.getUser(params.user_id))) throw new ApiProblem('not_found', `No user "${params.user_id.slice(0, 64)}"`);
        const grants = await oauth.grants.listGrantsForUser(params.user_id);
        const p = page(grants, query);
        const slugOf = await slugs(p.items);
        return { status: 200, body: { data: p.items.map((g) => grantView(g, slugOf)), next_cursor: p.next_cursor } };
      },
    }),
    define({
      operationId: 'revokeGrant',
      method: 'delete',
      path: '/workspaces/{workspace}/grants/{grant_id}',
      tag: 'Grants',
      summary: 'Revoke a grant: its access and refresh tokens stop working at once, in every process',
      access: 'write',
      params: { workspace: WORKSPACE_SLUG_SCHEMA, grant_id: ID_SCHEMA },
      response: { status: 200, description: 'The revoked grant', schema: ref('Grant') },
      async handle({ workspace, params, audit }) {
        const grant = await oauth.grants.getGrant(params.grant_id);
        if (!grant || grant.workspaceId !== workspace.id) throw new ApiProblem('not_found', `Workspace "${workspace.slug}" has no grant "${params.grant_id.slice(0, 64)}"`);
        // The revocation, its grant.revoked event and its audit record commit together (OAuth module).
        await oauth.grants.revokeGrant(grant.id, 'revoked through the management API', undefined, audit);
        return { status: 200, body: grantView((await oauth.grants.getGrant(grant.id))!, () => workspace.slug) };
      },
    }),
  ];
}
