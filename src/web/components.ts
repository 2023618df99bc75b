// Fragments shared by the dashboard and admin pages: the workspace tabs, flash messages, secrets shown once,
// and the page frame that puts them in the application shell.
import { html } from 'hono/html';
import type { Role, Workspace } from '../accounts/index.ts';
import { appLayout, type Html } from './layout.ts';
import type { Ctx, MemberAccess, SignedIn } from './page-context.ts';

export type Flash = { kind: 'ok' | 'error' | 'warn'; text: string | Html };

export function flashMessage(flash: Flash | undefined): Html | string {
  if (!flash) return '';
  return html`<div class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</div>`;
}

/** A flash chosen by a `?done=` key: fixed texts only, so nothing from the URL is echoed. */
export function doneFlash(c: Ctx, messages: Record<string, string>): Flash | undefined {
  const key = c.req.query('done');
  return key && Object.hasOwn(messages, key) ? { kind: 'ok', text: messages[key] } : undefined;
}

export const wsPath = (ws: Pick<Workspace, 'slug'>, rest = ''): string => `/dashboard/${encodeURIComponent(ws.slug)}${rest}`;

export type WorkspaceTab = 'overview' | 'ledger' | 'apps' | 'clients' | 'members' | 'audit';

const TABS: { id: WorkspaceTab; label: string; path: string }[] = [
  { id: 'overview', label: 'Overview', path: '' },
  { id: 'ledger', label: 'Ledger', path: '/ledger' },
  { id: 'apps', label: 'Connected apps', path: '/apps' },
  { id: 'clients', label: 'OAuth clients', path: '/clients' },
  { id: 'members', label: 'Members', path: '/members' },
  { id: 'audit', label: 'Audit log', path: '/audit' },
];

const ROLE_LABEL: Record<Role, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };
export const roleLabel = (role: Role): string => ROLE_LABEL[role];

/** A workspace page: heading, tabs and content in the application shell. */
export function workspacePage(
  c: Ctx,
  access: MemberAccess,
  p: { title: string; tab: WorkspaceTab; body: Html; flash?: Flash; scripts?: string[]; head?: Html; actions?: Html },
): Html {
  const ws = access.workspace;
  return appLayout({
    title: `${p.title} · ${ws.name}`,
    nonce: c.get('cspNonce'),
    requestId: c.get('requestId'),
    user: access.user,
    csrf: access.csrf,
    workspaces: access.workspaces,
    current: ws,
    scripts: p.scripts,
    head: p.head,
    body: html`<div class="page-head">
        <h1>${ws.name} <span class="muted small">${ws.slug}</span></h1>
        <span class="badge">${roleLabel(access.role)}</span>
      </div>
      <nav aria-label="Workspace sections">
        <ul class="tabs">
          ${TABS.map((t) => html`<li><a href="${wsPath(ws, t.path)}" ${t.id === p.tab ? html`aria-current="page"` : ''}>${t.label}</a></li>`)}
        </ul>
      </nav>
      ${flashMessage(p.flash)}
      ${p.body}`,
  });
}

/** A page outside any workspace (home, admin). */
export function plainPage(c: Ctx, signedIn: SignedIn, p: { title: string; body: Html; flash?: Flash; section?: 'home' | 'admin' }): Html {
  return appLayout({
    title: p.title,
    nonce: c.get('cspNonce'),
    requestId: c.get('requestId'),
    user: signedIn.user,
    csrf: signedIn.csrf,
    workspaces: signedIn.workspaces,
    section: p.section,
    body: html`${flashMessage(p.flash)}${p.body}`,
  });
}

/** A URL piece this long fits a phone's line, so it is kept whole (no break at its `-`); longer ones may break. */
const URL_PIECE_KEPT = 24;

/**
 * A URL in `<code>` that wraps after a `/` or `.` (a `<wbr>` there; none inside `//`) before anywhere else, so a long
 * URL does not break mid-word on a phone: a short piece with a hyphen or other break point is kept whole, and only a
 * piece too long for the line breaks inside (`overflow-wrap: anywhere`, the last resort). `<wbr>` and spans add no
 * text: copying the element copies the URL.
 */
export function urlCode(url: string, id?: string): Html {
  const pieces = url.split(/(?<=[/.](?!\/))/);
  const piece = (p: string) => (p.length <= URL_PIECE_KEPT && /[^\w./:]/.test(p) ? html`<span class="nobr">${p}</span>` : p);
  return html`<code class="url"${id ? html` id="${id}"` : ''}>${pieces.map((p, i) => html`${i ? html`<wbr />` : ''}${piece(p)}`)}</code>`;
}

/** A tool (or other) name in `<code>` that wraps after `_`, `-`, `.` or `/` before anywhere else. */
export function identCode(name: string): Html {
  return html`<code class="ident">${name.split(/(?<=[_\-./])/).map((p, i) => html`${i ? html`<wbr />` : ''}${p}`)}</code>`;
}

/** OAuth scopes, each unbreakable, wrapping only between scopes. */
export function scopeList(scopes: string[]): Html {
  return html`${scopes.map((s, i) => html`${i ? ' ' : ''}<code class="scope">${s}</code>`)}`;
}

/** A value shown once with a copy button (the button appears only when the script runs). */
export function secretBox(id: string, value: string): Html {
  return html`<div class="secret">
      ${/^https?:\/\//.test(value) ? urlCode(value, id) : html`<code id="${id}">${value}</code>`}
      <button type="button" class="small" data-copy-target="${id}" aria-describedby="${id}-status" hidden>Copy</button>
      <span class="copy-status" id="${id}-status" role="status"></span>
    </div>`;
}

/** The hidden CSRF field every form carries. */
/** Deny, and Approve unless the request cannot be approved (the consent and device pages; `decision` is the field). */
export function decisionButtons(blocked: boolean): Html {
  return html`<div class="actions">
          <button type="submit" name="decision" value="deny">Deny</button>
          ${blocked ? '' : html`<button class="primary" type="submit" name="decision" value="approve">Approve</button>`}
        </div>`;
}

export const csrfField = (token: string): Html => html`<input type="hidden" name="csrf_token" value="${token}" />`;

/**
 * A one-button POST form that asks before it submits (the page script reads `data-confirm`): revoke, remove, rotate,
 * delete. `buttonClass` styles the button; `ariaLabel` names it for assistive technology when its text alone is ambiguous.
 */
export function confirmForm(p: { action: string; csrf: string; confirm: string; label: Html | string; buttonClass?: string; ariaLabel?: string }): Html {
  return html`<form method="post" action="${p.action}" class="inline-form" data-confirm="${p.confirm}">
      ${csrfField(p.csrf)}
      <button type="submit"${p.buttonClass ? html` class="${p.buttonClass}"` : ''}${p.ariaLabel ? html` aria-label="${p.ariaLabel}"` : ''}>${p.label}</button>
    </form>`;
}
