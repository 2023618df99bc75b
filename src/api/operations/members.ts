// Members of a workspace: list, add by email (an account is created for a new address), change role, remove.
import { AccountsError } from '../../accounts/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { pageByKey } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { ID_SCHEMA, pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';

const ROLE = { enum: ['owner', 'admin', 'member'] };
const PARAMS = { workspace: WORKSPACE_SLUG_SCHEMA, user_id: ID_SCHEMA };

export function memberOperations(deps: ApiDeps): Operation[] {
  const { accounts } = deps;
  const members = (slug: string) => accounts.workspaces.listMembers(slug);
  const memberView = (m: { userId: string; email: string; name: string; role: string }) => ({ user_id: m.userId, email: m.email, name: m.name, role: m.role });
  async function requireMember(slug: string, userId: string) {
    const m = (await members(slug)).find((x) => x.userId === userId);
    if (!m) throw new ApiProblem('not_found', `No member with the user id "${userId.slice(0, 64)}" in workspace "${slug}"`);
    return m;
  }
  const asProblem = (err: unknown): never => {
    if (err instanceof AccountsError) throw new ApiProblem(err.code === 'last_owner' ? 'conflict' : err.code === 'not_found' ? 'not_found' : 'invalid_request', err.message);
    throw err;
  };

  return [
    define({
      operationId: 'listMembers',
      method: 'get',
      path: '/workspaces/{workspace}/members',
      tag: 'Members',
      summary: "List a workspace's members (by user id)",
      access: 'read',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of members', schema: pageOf('Member') },
      async handle({ workspace, query }) {
        const all = (await members(workspace.slug)).sort((a, b) => (a.userId < b.userId ? -1 : 1));
        const page = pageByKey(all, (m) => m.userId, query.limit as number, query.cursor as string | undefined);
        return { status: 200, body: { data: page.items.map(memberView), next_cursor: page.next_cursor } };
      },
    }),
    define({
      operationId: 'addMember',
      method: 'post',
      path: '/workspaces/{workspace}/members',
      tag: 'Members',
      summary: 'Add a member by email, creating the account when the address is new; an existing member gets the role',
      description: 'A new account has no password: its owner signs in through single sign-on, or an operator sets a password (`tollgate admin user set-password <email>`).',
      access: 'write',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      body: { type: 'object', additionalProperties: false, required: ['email', 'role'], properties: { email: { type: 'string', format: 'email', maxLength: 320 }, role: ROLE, name: { type: 'string', maxLength: 200 } } },
      response: { status: 200, description: 'The membership', schema: ref('Member') },
      problems: [409],
      async handle({ workspace, body, audit }) {
        try {
          let user = await accounts.users.findUserByEmail(body.email);
          // The API caller (the operator's backend) vouches for the address, as an operator creating an account does.
          // A new account (user.created) and the membership (member.added or member.role_changed) are each recorded
          // in their own transaction by the accounts module.
          user ??= await accounts.users.createUser({ email: body.email, name: body.name, emailVerified: true }, audit).catch(async (err) => {
            // A concurrent request created it first.
            if (err instanceof AccountsError && err.code === 'email_taken') return (await accounts.users.findUserByEmail(body.email))!;
            throw err;
          });
          await accounts.workspaces.addMember(workspace.slug, user.email, body.role, audit);
          return { status: 200, body: memberView(await requireMember(workspace.slug, user.id)) };
        } catch (err) {
          return asProblem(err);
        }
      },
    }),
    define({
      operationId: 'updateMember',
      method: 'patch',
      path: '/workspaces/{workspace}/members/{user_id}',
      tag: 'Members',
      summary: "Change a member's role (a workspace keeps at least one owner)",
      access: 'write',
      params: PARAMS,
      body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: ROLE } },
      response: { status: 200, description: 'The membership', schema: ref('Member') },
      problems: [409],
      async handle({ workspace, params, body, audit }) {
        const m = await requireMember(workspace.slug, params.user_id);
        try {
          // member.role_changed (before and after) is recorded in the membership's transaction.
          await accounts.workspaces.addMember(workspace.slug, m.email, body.role, audit);
        } catch (err) {
          return asProblem(err);
        }
        return { status: 200, body: memberView(await requireMember(workspace.slug, params.user_id)) };
      },
    }),
    define({
      operationId: 'removeMember',
      method: 'delete',
      path: '/workspaces/{workspace}/members/{user_id}',
      tag: 'Members',
      summary: 'Remove a member (not the last owner); the account itself stays',
      access: 'write',
      params: PARAMS,
      response: { status: 200, description: 'The membership as it was', schema: ref('Member') },
      problems: [409],
      async handle({ workspace, params, audit }) {
        const m = await requireMember(workspace.slug, params.user_id);
        try {
          // member.removed is recorded in the removal's transaction.
          await accounts.workspaces.removeMember(workspace.slug, m.email, audit);
        } catch (err) {
          return asProblem(err);
        }
        return { status: 200, body: memberView(m) };
      },
    }),
  ];
}
