// `tollgate admin invite …`: invite someone to a workspace from the shell (the link is printed once, and mailed when
// TOLLGATE_SMTP_URL is set), list a workspace's open invitations, revoke one; and `admin user reset-two-factor` for
// a person locked out of their second factor.
import { CommandError, type Command } from './command.ts';
import { requireWorkspace, withServices } from './context.ts';
import { cliAuditContext } from './audit-context.ts';
import { table } from './format.ts';
import { InvitationRefused, ROLES, type Role } from '../accounts/index.ts';
import { invitationLink, invitationMail } from '../web/invitation-mail.ts';

export const invitationCommands: Command[] = [
  {
    path: ['admin', 'invite'],
    summary: 'Invite an email address to a workspace; prints the single-use link (shown once) and mails it when SMTP is configured.',
    args: '<workspace> <email> [--role owner|admin|member]',
    positionals: 2,
    options: { role: { type: 'string', default: 'member' } },
    async run({ values, positionals }, io) {
      const role = values.role as Role;
      if (!ROLES.includes(role)) throw new CommandError(`--role must be one of ${ROLES.join(', ')}`);
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, positionals[0]);
        let created;
        try {
          created = await s.invitations.createInvitation({ workspace: ws, email: positionals[1], role }, cliAuditContext('admin invite'));
        } catch (err) {
          if (err instanceof InvitationRefused) throw new CommandError(err.message);
          throw err;
        }
        const link = invitationLink(s.config.publicUrl, created.token);
        io.out(`Invited ${created.invitation.email} to ${ws.slug} as ${role} (expires ${new Date(created.invitation.expiresAt).toISOString()}).`);
        io.out(`Link: ${link}  (shown once)`);
        if (s.mail.configured) {
          const mailed = await s.mail.send({ to: created.invitation.email, ...invitationMail({ invitation: created.invitation, link, publicUrl: s.config.publicUrl }) });
          if (mailed) await s.invitations.markMailed(created.invitation.id);
          io.out(mailed ? `Mailed to ${created.invitation.email}.` : 'The mail server did not take the message: send the link yourself.');
        }
      });
    },
  },
  {
    path: ['admin', 'invite', 'list'],
    summary: "List a workspace's open invitations.",
    args: '<workspace>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, positionals[0]);
        const list = await s.invitations.listOpenInvitations(ws.id);
        io.out(table([['ID', 'EMAIL', 'ROLE', 'STATE', 'EXPIRES', 'MAILED'], ...list.map((i) => [i.id, i.email, i.role, i.state, new Date(i.expiresAt).toISOString(), i.mailedAt ? 'yes' : ''])]));
      });
    },
  },
  {
    path: ['admin', 'invite', 'revoke'],
    summary: 'Revoke an open invitation (its id from `admin invite list`).',
    args: '<workspace> <id>',
    positionals: 2,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, positionals[0]);
        if (!(await s.invitations.revokeInvitation(ws.id, positionals[1], cliAuditContext('admin invite revoke')))) throw new CommandError(`No open invitation ${positionals[1]} in ${ws.slug}`);
        io.out(`Invitation ${positionals[1]} revoked.`);
      });
    },
  },
  {
    path: ['admin', 'user', 'reset-two-factor'],
    summary: "Turn off a user's two-factor sign-in (they lost their device and recovery codes).",
    args: '<email>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const user = await s.accounts.users.findUserByEmail(positionals[0]);
        if (!user) throw new CommandError(`No user with the email ${positionals[0]}`);
        const had = await s.twoFactor.disable(user.id, cliAuditContext('admin user reset-two-factor'));
        io.out(had ? `Two-factor sign-in of ${user.email} turned off; they can set it up again after signing in.` : `${user.email} had no two-factor sign-in.`);
      });
    },
  },
];
