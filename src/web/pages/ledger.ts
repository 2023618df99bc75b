// A workspace's credit ledger, newest first, 50 rows a page (cursor paging: `?before=` the last row's cursor).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import type { LedgerEntry } from '../../credits/index.ts';
import { identCode, workspacePage, wsPath } from '../components.ts';
import { formatNumber, formatSigned, timeTag } from '../format.ts';
import { requireMember } from '../page-context.ts';

const PAGE_SIZE = 50;
const CURSOR = /^[A-Za-z0-9_-]{1,120}$/;

const REASONS: Record<LedgerEntry['reason'], string> = {
  initial: 'Initial credits',
  grant: 'Granted',
  purchase: 'Purchase',
  tool_call: 'Tool call',
  refund: 'Refund',
  adjustment: 'Adjustment',
  seed: 'Sample data',
};

export function mountLedger(app: Hono<AppEnv>, services: PageDeps): void {
  app.get('/dashboard/:ws/ledger', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    const ws = access.workspace;
    const before = c.req.query('before');
    const cursor = before && CURSOR.test(before) ? before : undefined;
    const [account, page] = await Promise.all([services.credits.getAccount(ws.id), services.credits.listLedger(ws.id, { limit: PAGE_SIZE, before: cursor })]);
    const clientIds = [...new Set(page.entries.map((e) => e.clientId).filter((id): id is string => !!id))];
    const names = new Map<string, string>();
    for (const id of clientIds) names.set(id, (await services.oauth.directory.describeClient(id)).name);

    const rows = page.entries.map(
      (e) => html`<tr>
        <td>${timeTag(e.createdAt)}</td>
        <td data-label="What">${REASONS[e.reason] ?? e.reason}${e.tool ? html` ${identCode(e.tool)}` : ''}${e.description ? html`<div class="muted small">${e.description}</div>` : ''}</td>
        <td data-label="Client">${e.clientId ? names.get(e.clientId) : html`<span class="muted">—</span>`}</td>
        <td data-label="Credits" class="num ${e.amount > 0 ? 'pos' : e.amount < 0 ? 'neg' : ''}">${formatSigned(e.amount)}</td>
        <td data-label="Balance" class="num">${formatNumber(e.balanceAfter)}</td>
        <td data-label="Request id">${e.requestId ? html`<code>${e.requestId}</code>` : ''}</td>
      </tr>`,
    );
    const body = html`<section class="panel" aria-labelledby="ledger-h">
        <div class="page-head"><h2 id="ledger-h">Ledger</h2><span>Balance <strong>${formatNumber(account.balance)}</strong> credits</span></div>
        ${page.entries.length
          ? html`<div class="table-wrap"><table class="stack">
              <caption class="visually-hidden">Credit ledger, newest first</caption>
              <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Client</th><th scope="col" class="num">Credits</th><th scope="col" class="num">Balance</th><th scope="col">Request id</th></tr></thead>
              <tbody>${rows}</tbody>
            </table></div>`
          : html`<p class="empty">${cursor ? 'No older entries.' : 'No ledger entries yet.'}</p>`}
        <nav class="pager" aria-label="Ledger pages">
          ${cursor ? html`<a href="${wsPath(ws, '/ledger')}">← Newest</a>` : html`<span></span>`}
          ${page.nextCursor ? html`<a href="${wsPath(ws, '/ledger')}?before=${page.nextCursor}" rel="next">Older →</a>` : ''}
        </nav>
      </section>`;
    return c.html(workspacePage(c, access, { title: 'Ledger', tab: 'ledger', body }));
  });
}
