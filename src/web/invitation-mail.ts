// The invitation link and the message that carries it (used by the members page and `tollgate admin invite`).
import type { Invitation } from '../accounts/index.ts';

export const INVITE_PATH = '/invite';

/** The token rides in the query, never the path: request log lines carry the path only. */
export const invitationLink = (publicUrl: string, token: string): string => `${publicUrl}${INVITE_PATH}?token=${encodeURIComponent(token)}`;

export function invitationMail(p: { invitation: Invitation; link: string; publicUrl: string }): { subject: string; text: string } {
  const inv = p.invitation;
  const who = inv.invitedBy ? `${inv.invitedBy.name || inv.invitedBy.email} invited you` : 'You are invited';
  return {
    subject: `You are invited to ${inv.workspace.name} on Tollgate`,
    text: [
      `${who} to join the workspace "${inv.workspace.name}" (${inv.workspace.slug}) at ${p.publicUrl} as ${inv.role}.`,
      '',
      `Accept the invitation here (the link works once, until ${new Date(inv.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC):`,
      p.link,
      '',
      'If you did not expect this, ignore this message.',
    ].join('\n'),
  };
}
