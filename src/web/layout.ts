// The two HTML layouts every server-rendered page uses: a narrow card (sign-in, consent, messages) and the
// application shell (home, dashboard, admin). Interpolations in `html` templates are escaped; styles and scripts
// are files under /static because the CSP forbids inline styles and allows only same-origin or nonced scripts.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Role, User, Workspace } from '../accounts/index.ts';
import { assetUrl } from './assets.ts';
import { CSRF_FIELD } from './csrf.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface LayoutProps {
  title: string;
  /** The response's CSP nonce (`c.get('cspNonce')`), for any inline script a page adds. */
  nonce: string;
  body: Html;
  /** Shown in the footer so a user can quote it when asking for help. */
  requestId?: string;
  /** Extra <head> content (e.g. a stylesheet). */
  head?: Html;
}

const document = (p: { title: string; head?: Html; body: Html; scripts?: string[] }) => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>${p.title} · Tollgate</title>
    <link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml" />
    <link rel="stylesheet" href="${assetUrl('tollgate.css')}" />
    ${p.head ?? ''}
  </head>
  <body>
    ${p.body}
    ${(p.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
  </body>
</html>`;

const footer = (requestId?: string) => (requestId ? html`<footer>Request id: <code>${requestId}</code></footer>` : '');

/** The narrow card: sign-in, consent and message pages. */
export function layout(props: LayoutProps): Html {
  return document({
    title: props.title,
    head: props.head,
    body: html`<main class="card" id="main">
        <p class="brand">Tollgate</p>
        ${props.body}
      </main>
      ${footer(props.requestId)}`,
  });
}

/** A page that only says what went wrong (and never redirects anywhere). */
export function messagePage(props: { title: string; message: string; nonce: string; requestId?: string; links?: { href: string; label: string }[] }): Html {
  return layout({
    title: props.title,
    nonce: props.nonce,
    requestId: props.requestId,
    body: html`<h1>${props.title}</h1>
      <p class="message" role="alert">${props.message}</p>
      ${props.links?.length ? html`<p>${props.links.map((l, i) => html`${i ? ' · ' : ''}<a href="${l.href}">${l.label}</a>`)}</p>` : ''}`,
  });
}

export interface ShellProps {
  title: string;
  nonce: string;
  requestId?: string;
  user: User;
  csrf: string;
  /** The user's workspaces, for the switcher. */
  workspaces: (Workspace & { role: Role })[];
  /** The workspace being shown, if any. */
  current?: Workspace;
  /** `admin` marks the operator pages in the top bar. */
  section?: 'home' | 'admin';
  body: Html;
  /** Extra scripts (same-origin files). tollgate.js is always loaded. */
  scripts?: string[];
  head?: Html;
}

/** The application shell: top bar (workspace switcher, admin link, sign-out) around the page's content. */
export function appLayout(p: ShellProps): Html {
  const switcher = p.workspaces.length
    ? html`<details class="switcher">
        <summary><span class="visually-hidden">Switch workspace: </span>${p.current ? p.current.name : 'Workspaces'}</summary>
        <ul>
          ${p.workspaces.map(
            (w) => html`<li><a href="/dashboard/${encodeURIComponent(w.slug)}" ${p.current?.id === w.id ? html`aria-current="true"` : ''}>${w.name} <span class="muted small">${w.slug}</span></a></li>`,
          )}
          <li><a href="/">All workspaces</a></li>
        </ul>
      </details>`
    : '';
  return document({
    title: p.title,
    head: html`${p.head ?? ''}`,
    scripts: [assetUrl('tollgate.js'), ...(p.scripts ?? [])],
    body: html`<a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="/">Tollgate</a>
          <nav aria-label="Workspaces">${switcher}</nav>
          <span class="spacer"></span>
          <nav aria-label="Account">
            ${p.user.isAdmin ? html`<a href="/admin" ${p.section === 'admin' ? html`aria-current="page"` : ''}>Admin</a>` : ''}
            <span class="who">Signed in as <strong>${p.user.email}</strong></span>
            <a href="/account/two-factor">Two-factor</a>
            <form method="post" action="/logout" class="inline-form">
              <input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}" />
              <button type="submit" class="small">Sign out</button>
            </form>
          </nav>
        </div>
      </header>
      <main class="page" id="main" tabindex="-1">${p.body}</main>
      ${footer(p.requestId)}`,
  });
}
