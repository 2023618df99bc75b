// Operator pages for the management API and billing data: API keys (create — shown once —, list, revoke) and
// per-tool prices and plans (set, clear). The same as `tollgate admin api-keys|prices|plans …` and the API.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import { confirmForm, csrfField, doneFlash, secretBox, type Flash } from '../components.ts';
import { formatNumber, timeTag } from '../format.ts';
import type { Html } from '../layout.ts';
import { FormError, requireOperator, textField, type Ctx, type SignedIn } from '../page-context.ts';
import { adminPage, operatorPost } from './admin.ts';
import { webAuditContext } from '../audit-context.ts';

const KEY_ID = /^[A-Za-z0-9]{16}$/;
const TOOL = /^[A-Za-z0-9_.-]{1,128}$/;
const PLAN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const EXPIRIES: Record<string, number | null> = { never: null, '30': 30, '90': 90, '365': 365 };

function wholeField(form: Record<string, string>, name: string, what: string, min: number, max: number): number {
  const text = (form[name] ?? '').trim();
  const n = /^\d{1,13}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new FormError(`${what}: enter a whole number from ${formatNumber(min)} to ${formatNumber(max)}.`);
  return n;
}

export function mountAdminApi(app: Hono<AppEnv>, services: PageDeps): void {
  const { accounts, credits } = services;
  const audited = (c: Ctx, op: SignedIn) => webAuditContext(c, services.config.trustedProxyHops, op.user);

  async function keysPage(c: Ctx, op: SignedIn, flash?: Flash, created?: { id: string; secret: string }): Promise<Html> {
    if (!services.api) return adminPage(c, op, 'api-keys', html`<section class="panel"><p>The management API is not part of this deployment.</p></section>`, flash);
    const [keys, workspaces] = await Promise.all([services.api.keys.listKeys(), accounts.workspaces.listWorkspaces()]);
    const slugOf = new Map(workspaces.map((w) => [w.id, w.slug]));
    const now = Date.now();
    const body = html`${created
        ? html`<section class="panel" aria-labelledby="new-key-h">
            <h2 id="new-key-h">API key ${created.id}</h2>
            <div class="flash warn" role="status">Copy this key now: it is shown only once and stored only as a hash.</div>
            ${secretBox('new-api-key', created.secret)}
          </section>`
        : ''}
      <section class="panel" aria-labelledby="keys-h">
        <h2 id="keys-h">Management API keys</h2>
        <p>Send a key as <code>Authorization: Bearer …</code> to <a href="/api/v1/docs">/api/v1/</a>. Keys never work on MCP endpoints.</p>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Key</th><th scope="col">Name</th><th scope="col">Access</th><th scope="col">Workspace</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${keys.map((k) => {
            const state = k.revokedAt ? 'revoked' : k.expiresAt !== null && k.expiresAt <= now ? 'expired' : 'live';
            return html`<tr>
              <td><code>${k.id}</code></td>
              <td>${k.name}</td>
              <td>${k.access}</td>
              <td>${k.workspaceId ? html`<code>${slugOf.get(k.workspaceId) ?? '?'}</code>` : 'every workspace'}</td>
              <td>${k.lastUsedAt ? timeTag(k.lastUsedAt) : 'never'}</td>
              <td>${k.expiresAt ? timeTag(k.expiresAt) : 'never'}</td>
              <td>${state}</td>
              <td>${state === 'live' ? confirmForm({ action: `/admin/api-keys/${k.id}/revoke`, csrf: op.csrf, confirm: `Revoke the API key "${k.name}"? Requests with it fail at once.`, label: 'Revoke', buttonClass: 'small danger', ariaLabel: `Revoke ${k.name}` }) : ''}</td>
            </tr>`;
          })}</tbody>
        </table></div>
      </section>
      <section class="panel" aria-labelledby="create-key-h">
        <h2 id="create-key-h">Create an API key</h2>
        <form method="post" action="/admin/api-keys">
          ${csrfField(op.csrf)}
          <label for="key-name">Name <span class="hint">What it is for, e.g. "billing backend".</span></label>
          <input id="key-name" name="name" type="text" required maxlength="200" />
          <label for="key-access">Access</label>
          <select id="key-access" name="access"><option value="read">Read</option><option value="write">Read and write</option></select>
          <label for="key-ws">Workspace</label>
          <select id="key-ws" name="workspace"><option value="">Every workspace (and prices, plans, new workspaces)</option>${workspaces.map((w) => html`<option value="${w.slug}">${w.name} (${w.slug})</option>`)}</select>
          <label for="key-exp">Expires</label>
          <select id="key-exp" name="expires"><option value="90">In 90 days</option><option value="30">In 30 days</option><option value="365">In a year</option><option value="never">Never</option></select>
          <div class="actions start"><button type="submit" class="primary">Create API key</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'api-keys', body, flash ?? doneFlash(c, { revoked: 'API key revoked.' }));
  }

  async function pricingPage(c: Ctx, op: SignedIn, flash?: Flash): Promise<Html> {
    const [overrides, plans] = await Promise.all([credits.listPrices(), credits.listPlans()]);
    const set = new Map(overrides.map((p) => [p.tool, p.cost]));
    const tools = services.tools ?? [];
    const body = html`<section class="panel" aria-labelledby="prices-h">
        <h2 id="prices-h">Tool prices</h2>
        <p>Credits per call. A tool without a set price costs its own price. Changes reach every server process within seconds.</p>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Tool</th><th scope="col" class="num">Own price</th><th scope="col" class="num">Price now</th><th scope="col">Set a price</th></tr></thead>
          <tbody>${tools.map(
            (t) => html`<tr>
              <td><code>${t.name}</code></td>
              <td class="num">${formatNumber(t.cost)}</td>
              <td class="num">${formatNumber(set.get(t.name) ?? t.cost)}</td>
              <td><form method="post" action="/admin/pricing/prices" class="inline-form">${csrfField(op.csrf)}<input type="hidden" name="tool" value="${t.name}" />
                <label class="visually-hidden" for="price-${t.name}">Price of ${t.name}</label>
                <input id="price-${t.name}" name="cost" type="number" min="0" step="1" required value="${set.get(t.name) ?? t.cost}" />
                <button type="submit" class="small">Set</button>
                ${set.has(t.name) ? html`<button type="submit" class="small" name="clear" value="1">Use own price</button>` : ''}</form></td>
            </tr>`,
          )}</tbody>
        </table></div>
      </section>
      <section class="panel" aria-labelledby="plans-h">
        <h2 id="plans-h">Plans</h2>
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">Plan</th><th scope="col" class="num">Calls/min per workspace</th><th scope="col" class="num">Calls/min per grant</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${plans.map(
            (p) => html`<tr>
              <td><code>${p.name}</code></td>
              <td class="num">${formatNumber(p.workspacePerMinute)}</td>
              <td class="num">${formatNumber(p.grantPerMinute)}</td>
              <td>${p.source === 'config' ? 'configuration' : 'set here, the CLI or the API'}</td>
              <td>${p.source === 'database' ? confirmForm({ action: `/admin/pricing/plans/${p.name}/delete`, csrf: op.csrf, confirm: `Delete the plan "${p.name}"?`, label: 'Delete', buttonClass: 'small danger', ariaLabel: `Delete plan ${p.name}` }) : ''}</td>
            </tr>`,
          )}</tbody>
        </table></div>
        <form method="post" action="/admin/pricing/plans">
          ${csrfField(op.csrf)}
          <label for="plan-name">Plan name <span class="hint">Lower-case letters, digits, - and _; an existing name changes that plan.</span></label>
          <input id="plan-name" name="name" type="text" required maxlength="64" pattern="[a-z0-9][a-z0-9_\\-]{0,63}" />
          <label for="plan-ws">Calls per minute per workspace</label>
          <input id="plan-ws" name="workspace_per_minute" type="number" min="1" step="1" required />
          <label for="plan-grant">Calls per minute per grant</label>
          <input id="plan-grant" name="grant_per_minute" type="number" min="1" step="1" required />
          <div class="actions start"><button type="submit" class="primary">Save plan</button></div>
        </form>
      </section>`;
    return adminPage(c, op, 'pricing', body, flash ?? doneFlash(c, { price: 'Price saved.', plan: 'Plan saved.', deleted: 'Plan deleted.' }));
  }

  for (const [tab, render] of [['api-keys', keysPage], ['pricing', pricingPage]] as const) {
    app.get(`/admin/${tab}`, async (c) => {
      const op = await requireOperator(c, services);
      if (op instanceof Response) return op;
      return c.html(await render(c, op));
    });
  }

  app.post('/admin/api-keys', (c) =>
    operatorPost(c, services, (op, flash) => keysPage(c, op, flash), async (op, form) => {
      if (!services.api) throw new FormError('The management API is not part of this deployment.');
      const name = textField(form, 'name', 200);
      if (!name) throw new FormError('Give the key a name (at most 200 characters).');
      const access = form.access === 'write' ? 'write' : form.access === 'read' ? 'read' : undefined;
      if (!access) throw new FormError('Choose the access: read, or read and write.');
      if (!Object.hasOwn(EXPIRIES, form.expires ?? '')) throw new FormError('Choose when the key expires.');
      const days = EXPIRIES[form.expires];
      let workspaceId: string | null = null;
      if (form.workspace) {
        const ws = await accounts.workspaces.getWorkspaceBySlug(form.workspace.slice(0, 40));
        if (!ws) throw new FormError('Choose a workspace.');
        workspaceId = ws.id;
      }
      const { key, secret } = await services.api.keys.createKey({ name, access, workspaceId, expiresAt: days === null ? null : Date.now() + days * 86_400_000, createdBy: op.user.id }, audited(c, op));
      c.get('log').info({ apiKey: key.id, by: op.user.id }, 'API key created by an operator');
      return keysPage(c, op, { kind: 'ok', text: `Created API key ${key.id}.` }, { id: key.id, secret });
    }),
  );

  app.post('/admin/api-keys/:id/revoke', (c) =>
    operatorPost(c, services, (op, flash) => keysPage(c, op, flash), async (op) => {
      const id = c.req.param('id');
      if (!services.api || !KEY_ID.test(id) || !(await services.api.keys.revokeKey(id, audited(c, op)))) throw new FormError('There is no such live key (it may have been revoked already).');
      c.get('log').info({ apiKey: id, by: op.user.id }, 'API key revoked by an operator');
      return c.redirect('/admin/api-keys?done=revoked', 303);
    }),
  );

  app.post('/admin/pricing/prices', (c) =>
    operatorPost(c, services, (op, flash) => pricingPage(c, op, flash), async (op, form) => {
      const tool = form.tool ?? '';
      if (!TOOL.test(tool)) throw new FormError('Choose a tool.');
      if (form.clear === '1') await credits.clearPrice(tool, audited(c, op));
      else await credits.setPrice(tool, wholeField(form, 'cost', 'Price', 0, 1_000_000_000), audited(c, op));
      return c.redirect('/admin/pricing?done=price', 303);
    }),
  );

  app.post('/admin/pricing/plans', (c) =>
    operatorPost(c, services, (op, flash) => pricingPage(c, op, flash), async (op, form) => {
      const name = (form.name ?? '').trim();
      if (!PLAN.test(name)) throw new FormError('A plan name is 1–64 lower-case letters, digits, - or _.');
      await credits.upsertPlan({ name, workspacePerMinute: wholeField(form, 'workspace_per_minute', 'Per workspace', 1, 10_000_000), grantPerMinute: wholeField(form, 'grant_per_minute', 'Per grant', 1, 10_000_000) }, audited(c, op));
      return c.redirect('/admin/pricing?done=plan', 303);
    }),
  );

  app.post('/admin/pricing/plans/:name/delete', (c) =>
    operatorPost(c, services, (op, flash) => pricingPage(c, op, flash), async (op) => {
      const name = c.req.param('name');
      if (!PLAN.test(name)) throw new FormError('There is no such plan.');
      await credits.deletePlan(name, audited(c, op));
      return c.redirect('/admin/pricing?done=deleted', 303);
    }),
  );
}
