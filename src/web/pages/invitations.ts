// Inviting people to a workspace from its members page: owners and admins invite an address with a role (admins
// up to admin: only an owner makes owners); the link is shown once to the inviter and mailed when SMTP is configured;
// open invitations are listed and can be revoked.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import { InvitationRefused, ROLES, type Invitation, type Role } from '../../accounts/index.ts';
import { confirmForm, csrfField, roleLabel, secretBox, wsPath, type Flash } from '../components.ts';
import type { PageDeps } from '../deps.ts';
import { webAuditContext } from '../audit-context.ts';
import { agoTag, timeTag } from '../format.ts';
import { invitationLink, invitationMail } from '../invitation-mail.ts';
import type { Html } from '../layout.ts';
import { canManage, readPostForm, requireMember, textField, type Ctx, type MemberAccess } from '../page-context.ts';

/** What the members page shows right after an invitation was made: its link, once. */
export interface JustInvited {
  email: string;
  link: string;
  /** true: mailed; false: the mail server refused; undefined: no mail configured. */
  mailed?: boolean;
}

/** The roles this member may invite with. */
export const invitableRoles = (role: Role): readonly Role[] => (role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner'));

export function invitationsPanel(access: MemberAccess, open: Invitation[], p: { justInvited?: JustInvited; email?: string; mailConfigured: boolean }): Html {
  const base = wsPath(access.workspace, '/invitations');
  const just = p.justInvited;
  const created = just
    ? html`<div class="flash ${just.mailed === false ? 'warn' : 'ok'}" role="status">
        <p>${just.mailed === true ? html`Invitation mailed to <strong>${just.email}</strong>.` : just.mailed === false ? html`The mail server did not take the invitation for <strong>${just.email}</strong>: send them this link yourself.` : html`Invitation for <strong>${just.email}</strong> created: send them this link.`}
          It is shown only now.</p>
        ${secretBox('invite-link', just.link)}
      </div>`
    : '';
  const rows = open.map(
    (inv) => html`<tr>
      <td>${inv.email}${inv.invitedBy ? html`<div class="muted small">by ${inv.invitedBy.email}</div>` : ''}</td>
      <td data-label="Role">${roleLabel(inv.role)}</td>
      <td data-label="Sent">${agoTag(inv.createdAt)}${inv.mailedAt ? html` <span class="muted small">(mailed)</span>` : ''}</td>
      <td data-label="Expires">${inv.state === 'expired' ? html`<span class="badge">expired</span>` : timeTag(inv.expiresAt)}</td>
      <td>${confirmForm({ action: `${base}/${encodeURIComponent(inv.id)}/revoke`, csrf: access.csrf, confirm: `Withdraw the invitation for ${inv.email}?`, label: 'Revoke', buttonClass: 'small danger', ariaLabel: `Revoke the invitation for ${inv.email}` })}</td>
    </tr>`,
  );
  return html`<section class="panel" aria-labelledby="invite-h">
      <h2 id="invite-h">Invite by email</h2>
      ${created}
      <form method="post" action="${base}" class="form-grid">
        ${csrfField(access.csrf)}
        <div><label for="invite-email">Address to invite <span class="hint">${p.mailConfigured ? 'They get a link by email (you see it too, once).' : 'You get a link to send them (this server sends no email).'}</span></label>
          <input id="invite-email" name="email" type="email" autocomplete="off" required maxlength="320" value="${p.email ?? ''}" /></div>
        <div><label for="invite-role">Role</label><select id="invite-role" name="role">${invitableRoles(access.role).map((r) => html`<option value="${r}" ${r === 'member' ? 'selected' : ''}>${roleLabel(r)}</option>`)}</select></div>
        <div><button type="submit" class="primary">Invite</button></div>
      </form>
      ${open.length
        ? html`<div class="table-wrap"><table class="stack">
            <caption class="visually-hidden">Open invitations</caption>
            <thead><tr><th scope="col">Invited</th><th scope="col">Role</th><th scope="col">Sent</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>${rows}</tbody>
          </table></div>`
        : html`<p class="muted small">No open invitations.</p>`}
    </section>`;
}

export type RenderMembers = (c: Ctx, deps: PageDeps, access: MemberAccess, extra?: { flash?: Flash; email?: string; justInvited?: JustInvited; inviteEmail?: string }) => Promise<Html>;

export function mountInvitations(app: Hono<AppEnv>, deps: PageDeps, renderMembers: RenderMembers): void {
  /** Owners and admins only; anyone else in the workspace gets the members page with a 403. */
  async function managerAction(c: Ctx, action: (access: MemberAccess, form: Record<string, string>) => Promise<Response>): Promise<Response> {
    const access = await requireMember(c, deps, c.req.param('ws') ?? '');
    if (access instanceof Response) return access;
    const form = await readPostForm(c, deps);
    if (form instanceof Response) return form;
    if (!canManage(access.role)) return c.html(await renderMembers(c, deps, access, { flash: { kind: 'error', text: 'Only owners and admins can invite people.' } }), 403);
    return action(access, form);
  }

  app.post('/dashboard/:ws/invitations', (c) =>
    managerAction(c, async (access, form) => {
      const email = textField(form, 'email', 320);
      const role = form.role as Role;
      const fail = (text: string) => renderMembers(c, deps, access, { flash: { kind: 'error', text }, inviteEmail: email ?? '' }).then((h) => c.html(h, 400));
      if (!email) return fail('Enter the email address to invite.');
      if (!invitableRoles(access.role).includes(role)) return fail(access.role === 'owner' ? 'Choose a role.' : 'Only owners can invite owners.');
      let created;
      try {
        created = await deps.invitations.createInvitation({ workspace: access.workspace, email, role, invitedBy: access.user.id }, webAuditContext(c, deps.config.trustedProxyHops, access.user));
      } catch (err) {
        if (err instanceof InvitationRefused) return fail(err.message);
        throw err;
      }
      const link = invitationLink(deps.config.publicUrl, created.token);
      let mailed: boolean | undefined;
      if (deps.mail.configured) {
        mailed = await deps.mail.send({ to: created.invitation.email, ...invitationMail({ invitation: created.invitation, link, publicUrl: deps.config.publicUrl }) });
        if (mailed) await deps.invitations.markMailed(created.invitation.id);
      }
      c.get('log').info({ event: 'invitation_created', workspace: access.workspace.slug, role, mailed: mailed ?? null }, 'invitation created');
      return c.html(await renderMembers(c, deps, access, { justInvited: { email: created.invitation.email, link, mailed } }));
    }),
  );

  app.post('/dashboard/:ws/invitations/:id/revoke', (c) =>
    managerAction(c, async (access) => {
      const ok = await deps.invitations.revokeInvitation(access.workspace.id, c.req.param('id') ?? '', webAuditContext(c, deps.config.trustedProxyHops, access.user));
      if (!ok) return c.html(await renderMembers(c, deps, access, { flash: { kind: 'error', text: 'That invitation is no longer open.' } }), 404);
      return c.redirect(`${wsPath(access.workspace, '/members')}?done=invite-revoked`, 303);
    }),
  );
}
