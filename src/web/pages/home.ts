// The home page: the signed-in user's workspaces (the workspace switcher's full list), each with its balance.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { plainPage, roleLabel, wsPath } from '../components.ts';
import { formatNumber } from '../format.ts';
import { requireUser } from '../page-context.ts';
import { readSession } from '../session.ts';

export function mountHome(app: Hono<AppEnv>, services: PageDeps): void {
  app.get('/', async (c) => {
    if (!(await readSession(c, services))) return c.redirect('/login', 303);
    const signedIn = await requireUser(c, services);
    if (signedIn instanceof Response) return signedIn;
    const balances = await Promise.all(signedIn.workspaces.map((w) => services.credits.getAccount(w.id)));
    const list = signedIn.workspaces.length
      ? html`<ul class="cards">
          ${signedIn.workspaces.map(
            (w, i) => html`<li>
              <a class="card-link" href="${wsPath(w)}">
                <span class="title">${w.name}</span>
                <span class="muted small">${w.slug} · ${roleLabel(w.role)}</span><br />
                <span>${formatNumber(balances[i].balance)} credits</span> <span class="muted small">· plan ${balances[i].plan}</span>
              </a>
            </li>`,
          )}
        </ul>`
      : html`<div class="panel"><p>You are not a member of any workspace yet. Ask a workspace owner to add <strong>${signedIn.user.email}</strong>.</p>
          ${signedIn.user.isAdmin ? html`<p><a href="/admin/workspaces">Create a workspace</a></p>` : ''}</div>`;
    return c.html(
      plainPage(c, signedIn, {
        title: 'Your workspaces',
        section: 'home',
        body: html`<div class="page-head"><h1>Your workspaces</h1></div>
          <p class="muted">You are signed in as <strong>${signedIn.user.email}</strong>. <a href="/account/sign-in-methods">Sign-in methods</a></p>
          ${list}`,
      }),
    );
  });

  app.get('/dashboard', (c) => c.redirect('/', 303));
}
