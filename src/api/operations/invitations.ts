// Invitations: a company's backend invites a customer to the workspace it just created, as its owner (or any role),
// through the invitations module; the link is mailed when SMTP is configured, and returned once to the caller.
import { InvitationRefused, type Invitation } from '../../accounts/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { pageByKey } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { ID_SCHEMA, iso, isoOrNull, pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';

const ROLE = { enum: ['owner', 'admin', 'member'] };

const invitationView = (i: Invitation) => ({
  id: i.id,
  workspace: i.workspace.slug,
  email: i.email,
  role: i.role,
  state: i.state,
  created_at: iso(i.createdAt),
  expires_at: iso(i.expiresAt),
  mailed_at: isoOrNull(i.mailedAt),
});

export function invitationOperations(deps: ApiDeps): Operation[] {
  const { invitations } = deps;
  return [
    define({
      operationId: 'createInvitation',
      method: 'post',
      path: '/workspaces/{workspace}/invitations',
      tag: 'Members',
      summary: 'Invite an email address to the workspace with a role (`owner` for a new customer); the link is mailed, and returned once',
      description:
        'The single-use link (`url`, shown once) is mailed to the address when the deployment has a mail server (`mailed: true`); otherwise deliver it yourself. Accepting it creates the account when the address is new (or signs in an existing one) and adds the membership. A new invitation for the same address replaces an open one. 409 when the address is already a member.',
      access: 'write',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      body: { type: 'object', additionalProperties: false, required: ['email', 'role'], properties: { email: { type: 'string', format: 'email', maxLength: 320 }, role: ROLE } },
      response: { status: 201, description: 'The invitation, its link (once) and whether it was mailed', schema: ref('InvitationCreated') },
      problems: [409],
      async handle({ workspace, body, audit }) {
        let created;
        try {
          // invitation.created (address and role, never the link) is recorded in the invitation's transaction.
          created = await invitations.createInvitation({ workspace, email: body.email, role: body.role }, audit);
        } catch (err) {
          if (err instanceof InvitationRefused) throw new ApiProblem(err.reason === 'already_member' ? 'conflict' : 'invalid_request', err.message);
          throw err;
        }
        const sent = await deps.mailInvitation(created.invitation, created.token);
        const invitation = sent.mailed ? { ...created.invitation, mailedAt: Date.now() } : created.invitation;
        return { status: 201, body: { ...invitationView(invitation), url: sent.url, mailed: sent.mailed } };
      },
    }),
    define({
      operationId: 'listInvitations',
      method: 'get',
      path: '/workspaces/{workspace}/invitations',
      tag: 'Members',
      summary: "A workspace's open invitations (never their links)",
      access: 'read',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of invitations', schema: pageOf('Invitation') },
      async handle({ workspace, query }) {
        const all = (await invitations.listOpenInvitations(workspace.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
        const page = pageByKey(all, (i) => i.id, query.limit as number, query.cursor as string | undefined);
        return { status: 200, body: { data: page.items.map(invitationView), next_cursor: page.next_cursor } };
      },
    }),
    define({
      operationId: 'revokeInvitation',
      method: 'delete',
      path: '/workspaces/{workspace}/invitations/{invitation_id}',
      tag: 'Members',
      summary: 'Withdraw an open invitation (its link stops working)',
      access: 'write',
      params: { workspace: WORKSPACE_SLUG_SCHEMA, invitation_id: ID_SCHEMA },
      response: { status: 200, description: 'The invitation, revoked', schema: ref('Invitation') },
      async handle({ workspace, params, audit }) {
        const open = (await invitations.listOpenInvitations(workspace.id)).find((i) => i.id === params.invitation_id);
        if (!open || !(await invitations.revokeInvitation(workspace.id, open.id, audit))) throw new ApiProblem('not_found', `No open invitation "${params.invitation_id.slice(0, 64)}" in workspace "${workspace.slug}"`);
        return { status: 200, body: invitationView({ ...open, state: 'revoked', revokedAt: Date.now() }) };
      },
    }),
  ];
}
