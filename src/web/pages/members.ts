// A workspace's members and roles. Everyone in the workspace sees the list; owners and admins invite by email
// (pages/invitations.ts); only owners add people (by the email of
// an existing account), change roles and remove members. The last owner cannot be demoted or removed.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { ROLES, type Role } from '../../accounts/index.ts';
import { UserFacingError } from '../../util/errors.ts';
import { confirmForm, csrfField, doneFlash, roleLabel, workspacePage, wsPath, type Flash } from '../components.ts';
import type { Html } from '../layout.ts';
import { canManage, FormError, isOwner, notFoundPage, readPostForm, requireMember, textField, type Ctx, type MemberAccess } from '../page-context.ts';
import { invitationsPanel, mountInvitations, type JustInvited } from './invitations.ts';
import { webAuditContext } from '../audit-context.ts';

const isRole = (v: string | undefined): v is Role => !!v && (ROLES as readonly string[]).includes(v);

const roleSelect = (id: string, selected: Role, label?: string) =>
  html`<select id="${id}" name="role" ${label ? html`aria-label="${label}"` : ''}>${ROLES.map((r) => html`<option value="${r}" ${r === selected ? 'selected' : ''}>${roleLabel(r)}</option>`)}</select>`;

async function renderMembers(c: Ctx, services: PageDeps, access: MemberAccess, extra: { flash?: Flash; email?: string; justInvited?: JustInvited; inviteEmail?: string } = {}): Promise<Html> {
  const members = await services.accounts.workspaces.listMembers(access.workspace.slug);
  const owner = isOwner(access.role);
  const base = wsPath(access.workspace, '/members');
  const rows = members.map(
    (m, i) => html`<tr>
      <td>${m.email}${m.userId === access.user.id ? html` <span class="muted small">(you)</span>` : ''}${m.name ? html`<div class="muted small">${m.name}</div>` : ''}</td>
      <td data-label="Role">${owner
        ? html`<form method="post" action="${base}/${encodeURIComponent(m.userId)}/role" class="row-form">
            ${csrfField(access.csrf)}
            ${roleSelect(`role-${i}`, m.role, `Role of ${m.email}`)}
            <button type="submit" class="small">Change role</button>
          </form>`
        : roleLabel(m.role)}</td>
      <td>${owner
        ? confirmForm({ action: `${base}/${encodeURIComponent(m.userId)}/remove`, csrf: access.csrf, confirm: `Remove ${m.email} from ${access.workspace.name}?`, label: 'Remove', buttonClass: 'small danger', ariaLabel: `Remove ${m.email}` })
        : ''}</td>
    </tr>`,
  );
  const body = html`<section class="panel" aria-labelledby="members-h">
      <h2 id="members-h">Members</h2>
      <p class="muted small">Owners manage members; owners and admins manage apps and OAuth clients; members see the dashboard.</p>
      <div class="table-wrap"><table class="stack">
        <caption class="visually-hidden">Members of ${access.workspace.name}</caption>
        <thead><tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${rows}</tbody>
      </table></div>
    </section>
    ${owner
      ? html`<section class="panel" aria-labelledby="add-h">
          <h2 id="add-h">Add a member</h2>
          <form method="post" action="${base}" class="form-grid">
            ${csrfField(access.csrf)}
            <div><label for="member-email">Email <span class="hint">Of someone who already has an account here.</span></label>
              <input id="member-email" name="email" type="email" autocomplete="off" required maxlength="320" value="${extra.email ?? ''}" /></div>
            <div><label for="member-role">Role</label>${roleSelect('member-role', 'member')}</div>
            <div><button type="submit" class="primary">Add member</button></div>
          </form>
        </section>`
      : html`<p class="muted small">Only owners can add, change or remove members.</p>`}
    ${canManage(access.role)
      ? invitationsPanel(access, await services.invitations.listOpenInvitations(access.workspace.id), { justInvited: extra.justInvited, email: extra.inviteEmail, mailConfigured: services.mail.configured })
      : ''}`;
  const flash = extra.flash ?? doneFlash(c, { added: 'Member added.', changed: 'Role changed.', removed: 'Member removed.', 'invite-revoked': 'Invitation revoked.' });
  return workspacePage(c, access, { title: 'Members', tab: 'members', body, flash });
}

export function mountMembers(app: Hono<AppEnv>, services: PageDeps): void {
  const ws = services.accounts.workspaces;

  app.get('/dashboard/:ws/members', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    return c.html(await renderMembers(c, services, access));
  });

  /** Runs an owner-only change; AccountsError messages (unknown email, last owner) come back on the page. */
  async function ownerAction(c: Ctx, action: (access: MemberAccess, form: Record<string, string>) => Promise<string | Response>): Promise<Response> {
    const access = await requireMember(c, services, c.req.param('ws') ?? '');
    if (access instanceof Response) return access;
    const form = await readPostForm(c, services);
    if (form instanceof Response) return form;
    if (!isOwner(access.role)) {
      return c.html(await renderMembers(c, services, access, { flash: { kind: 'error', text: 'Only owners can manage members.' } }), 403);
    }
    try {
      const done = await action(access, form);
      if (done instanceof Response) return done;
      return c.redirect(`${wsPath(access.workspace, '/members')}?done=${done}`, 303);
    } catch (err) {
      if (err instanceof UserFacingError) return c.html(await renderMembers(c, services, access, { flash: { kind: 'error', text: err.message }, email: form.email?.slice(0, 320) }), 400);
      throw err;
    }
  }

  /** A current member of this workspace by user id (from the URL), or a 404. */
  async function memberById(c: Ctx, access: MemberAccess) {
    const id = c.req.param('user') ?? '';
    return (await ws.listMembers(access.workspace.slug)).find((m) => m.userId === id);
  }

  app.post('/dashboard/:ws/members', (c) =>
    ownerAction(c, async (access, form) => {
      const email = textField(form, 'email', 320);
      if (!email) throw new FormError('Enter the email address of an existing account.');
      if (!isRole(form.role)) throw new FormError('Choose a role.');
      if ((await ws.listMembers(access.workspace.slug)).some((m) => m.email.toLowerCase() === email.toLowerCase())) {
        throw new FormError(`${email} is already a member; change their role in the list.`);
      }
      await ws.addMember(access.workspace.slug, email, form.role, webAuditContext(c, services.config.trustedProxyHops, access.user));
      return 'added';
    }),
  );

  app.post('/dashboard/:ws/members/:user/role', (c) =>
    ownerAction(c, async (access, form) => {
      const member = await memberById(c, access);
      if (!member) return notFoundPage(c);
      if (!isRole(form.role)) throw new FormError('Choose a role.');
      await ws.addMember(access.workspace.slug, member.email, form.role, webAuditContext(c, services.config.trustedProxyHops, access.user));
      return 'changed';
    }),
  );

  app.post('/dashboard/:ws/members/:user/remove', (c) =>
    ownerAction(c, async (access) => {
      const member = await memberById(c, access);
      if (!member) return notFoundPage(c);
      await ws.removeMember(access.workspace.slug, member.email, webAuditContext(c, services.config.trustedProxyHops, access.user));
      // Someone who removed themselves can no longer see this workspace.
      if (member.userId === access.user.id) return c.redirect('/', 303);
      return 'removed';
    }),
  );

  mountInvitations(app, services, renderMembers);
}
