// A workspace's overview: balance and plan, where to connect, and usage charts (calls, credits and errors per day;
// calls and credits per tool and per client); errors are every call that did not end ok, broken down by outcome. Charts are drawn by /static/charts.js with uPlot; the tables under them carry the same numbers.
import type { Hono } from 'hono';
import { html, raw } from 'hono/html';
import type { AppEnv } from '../../http/env.ts';
import type { PageDeps } from '../deps.ts';
import type { UsageReport, UsageTotals } from '../../credits/index.ts';
import { sharedResourceUrl, workspaceResourceUrl } from '../../oauth/index.ts';
import { assetUrl, hasAsset } from '../assets.ts';
import { identCode, secretBox, urlCode, workspacePage, wsPath } from '../components.ts';
import { formatNumber } from '../format.ts';
import type { Html } from '../layout.ts';
import { requireMember, type MemberAccess, type Ctx } from '../page-context.ts';

const RANGES = [7, 30, 90] as const;
/** Tools and clients drawn in the bar charts; the tables list every one. */
const CHART_BARS = 12;

/** JSON for a `<script type="application/json">` block: nothing in it can close the element or start markup. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function usageTable(caption: string, firstColumn: string, rows: { label: Html | string; totals: UsageTotals }[]): Html {
  if (!rows.length) return html`<p class="empty">No calls in this period.</p>`;
  return html`<div class="table-wrap"><table>
      <caption class="visually-hidden">${caption}</caption>
      <thead><tr><th scope="col">${firstColumn}</th><th scope="col" class="num">Calls</th><th scope="col" class="num">Credits</th><th scope="col" class="num">Errors</th></tr></thead>
      <tbody>
        ${rows.map((r) => html`<tr><td>${r.label}</td><td class="num">${formatNumber(r.totals.calls)}</td><td class="num">${formatNumber(r.totals.credits)}</td><td class="num">${formatNumber(r.totals.errors)}</td></tr>`)}
      </tbody>
    </table></div>`;
}

async function clientNames(services: PageDeps, report: UsageReport): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const row of report.byClient.slice(0, 50)) names.set(row.clientId, (await services.oauth.directory.describeClient(row.clientId)).name);
  return names;
}

/** Instead of charts with nothing on them: what to do to see usage here. */
function emptyUsage(ws: MemberAccess['workspace'], days: number, usedEver: boolean): Html {
  return html`<section class="panel empty-state" aria-labelledby="usage-empty-h">
      <h2 id="usage-empty-h">${usedEver ? `No usage in the last ${days} days` : 'No usage yet'}</h2>
      <p>${usedEver ? 'No tool calls in this period, so there is nothing to chart.' : 'No app has called a tool in this workspace yet.'}
        Give an MCP client the MCP URL above (under <a href="#connect-h">Connect an app</a>); once it calls tools, the calls
        and the credits they cost per day, per tool and per client appear here.</p>
      ${usedEver ? html`<p><a href="${wsPath(ws)}?days=90">Show the last 90 days</a></p>` : ''}
    </section>`;
}

async function renderOverview(c: Ctx, services: PageDeps, access: MemberAccess): Promise<Html> {
  const ws = access.workspace;
  const asked = Number(c.req.query('days'));
  const days = (RANGES as readonly number[]).includes(asked) ? asked : 30;
  const [account, plan, spend, report] = await Promise.all([
    services.credits.getAccount(ws.id),
    services.credits.planInfo(ws.id),
    services.credits.spendSummary(ws.id),
    services.credits.usageReport(ws.id, { days }),
  ]);
  // An empty period: is there any usage at all (in the longest range), to say "yet" only when there is none.
  const usedEver = report.totals.calls > 0 || (days < 90 && (await services.credits.usageReport(ws.id, { days: 90 })).totals.calls > 0);
  const names = await clientNames(services, report);
  const clientLabel = (id: string) => names.get(id) ?? id;
  const chartData = {
    days: report.byDay.map((d) => d.date),
    calls: report.byDay.map((d) => d.calls),
    credits: report.byDay.map((d) => d.credits),
    errors: report.byDay.map((d) => d.errors),
    tools: { names: report.byTool.slice(0, CHART_BARS).map((t) => t.tool), calls: report.byTool.slice(0, CHART_BARS).map((t) => t.calls), credits: report.byTool.slice(0, CHART_BARS).map((t) => t.credits) },
    clients: { names: report.byClient.slice(0, CHART_BARS).map((r) => clientLabel(r.clientId)), calls: report.byClient.slice(0, CHART_BARS).map((r) => r.calls), credits: report.byClient.slice(0, CHART_BARS).map((r) => r.credits) },
  };
  const charts = hasAsset('uplot.min.js');
  // Without uPlot (a production install that left it out) the tables carry the numbers alone.
  const chart = (kind: string, label: string) =>
    charts ? html`<div class="chart" data-chart="${kind}" role="img" aria-label="${label}"><p class="muted small">Loading the chart…</p></div>` : '';
  const legend = charts ? html`<div class="chart-legend" aria-hidden="true"><span>Calls</span><span class="s2">Credits</span></div>` : '';
  const dailyLegend = charts ? html`<div class="chart-legend" aria-hidden="true"><span>Calls</span><span class="s2">Credits</span><span class="s3">Errors</span></div>` : '';
  const o = report.totals.outcomes;
  const errorOutcomes = [
    [o.toolError, 'tool error', 'tool errors'],
    [o.badArguments, 'bad arguments', 'bad arguments'],
    [o.outOfCredits, 'out of credits', 'out of credits'],
    [o.rateLimited, 'rate limited', 'rate limited'],
  ] as const;
  const mcpUrl = workspaceResourceUrl(services.config.publicUrl, ws.slug);
  const exhausted = account.balance === 0;
  const low = !exhausted && account.balance <= services.credits.lowBalanceCredits;
  const buyUrl = services.credits.checkoutUrlFor(ws);
  const buyButton = html`<a class="button" id="buy-credits" href="${buyUrl}" rel="noopener noreferrer">Buy credits</a>`;

  const body = html`
    ${exhausted ? html`<div class="flash warn" role="status" id="low-balance">This workspace has no credits left: tool calls that cost credits are refused until credits are added. ${buyButton}</div>` : ''}
    ${low ? html`<div class="flash warn" role="status" id="low-balance">Credits are running low: ${formatNumber(account.balance)} left (the warning starts at ${formatNumber(services.credits.lowBalanceCredits)}). ${buyButton}</div>` : ''}
    <section class="stats" aria-label="Credits">
      <div class="stat"><div class="label">Balance</div><div class="value" id="balance">${formatNumber(account.balance)}</div><div class="sub">credits${exhausted || low ? '' : html` · <a href="${buyUrl}" id="buy-credits" rel="noopener noreferrer">Buy credits</a>`}</div></div>
      <div class="stat"><div class="label">Plan</div><div class="value">${plan.name}</div><div class="sub">${formatNumber(plan.workspacePerMinute)} calls/min · ${formatNumber(plan.grantPerMinute)} per app</div></div>
      <div class="stat"><div class="label">Spent, last 24 h</div><div class="value">${formatNumber(spend.last24h)}</div><div class="sub">credits</div></div>
      <div class="stat"><div class="label">Spent, last 30 days</div><div class="value">${formatNumber(spend.last30d)}</div><div class="sub">credits</div></div>
    </section>

    <section class="panel" aria-labelledby="connect-h">
      <h2 id="connect-h">Connect an app</h2>
      <p>Give an MCP client (Claude, ChatGPT, Cursor, VS Code, …) this URL; it signs in through Tollgate on its own.</p>
      ${secretBox('mcp-url', mcpUrl)}
      ${services.config.sharedEndpoint ? html`<p class="muted small">Or the shared endpoint ${urlCode(sharedResourceUrl(services.config.publicUrl))}, where the workspace is chosen when you approve the app.</p>` : ''}
    </section>

    <div class="page-head">
      <h2>Usage, ${report.range.from} to ${report.range.to} (UTC)</h2>
      <nav class="range" aria-label="Period">
        ${RANGES.map((d) => html`<a href="${wsPath(ws)}?days=${d}" ${d === days ? html`aria-current="page"` : ''}>${d} days</a>`)}
      </nav>
    </div>
    ${report.totals.calls ? html`<section class="stats" aria-label="Totals for the period">
      <div class="stat"><div class="label">Calls</div><div class="value">${formatNumber(report.totals.calls)}</div></div>
      <div class="stat"><div class="label">Credits</div><div class="value">${formatNumber(report.totals.credits)}</div></div>
      <div class="stat"><div class="label">Errors</div><div class="value" id="errors">${formatNumber(report.totals.errors)}</div><div class="sub" id="error-outcomes">${errorOutcomes.map(([count, one, many], i) => `${i ? ' · ' : ''}${formatNumber(count)} ${count === 1 ? one : many}`).join('')}</div></div>
    </section>
    <section class="panel" aria-labelledby="daily-h">
      <h2 id="daily-h">Calls and credits per day</h2>
      ${chart('daily', `Calls, credits and errors per day for the last ${days} days`)}
      ${dailyLegend}
      <details class="more"><summary>Show the numbers</summary>
        ${usageTable('Calls and credits per day', 'Day (UTC)', report.byDay.filter((d) => d.calls || d.credits || d.errors).reverse().map((d) => ({ label: d.date, totals: d })))}
      </details>
    </section>
    <div class="grid">
      <section class="panel" aria-labelledby="tools-h">
        <h2 id="tools-h">Per tool</h2>
        ${report.byTool.length ? html`${chart('tools', 'Calls and credits per tool')}${legend}` : ''}
        ${usageTable('Calls and credits per tool', 'Tool', report.byTool.map((t) => ({ label: identCode(t.tool), totals: t })))}
      </section>
      <section class="panel" aria-labelledby="clients-h">
        <h2 id="clients-h">Per client</h2>
        ${report.byClient.length ? html`${chart('clients', 'Calls and credits per client')}${legend}` : ''}
        ${usageTable('Calls and credits per client', 'Client', [
          ...report.byClient.map((r) => ({ label: clientLabel(r.clientId), totals: r })),
          ...(report.otherClients ? [{ label: `${formatNumber(report.otherClients.count)} more clients`, totals: report.otherClients }] : []),
        ])}
      </section>
    </div>` : emptyUsage(ws, days, usedEver)}
    <script type="application/json" id="usage-data">${raw(jsonForScript(chartData))}</script>`;

  return workspacePage(c, access, {
    title: 'Overview',
    tab: 'overview',
    body,
    head: charts ? html`<link rel="stylesheet" href="${assetUrl('uplot.min.css')}" />` : undefined,
    scripts: charts ? [assetUrl('uplot.min.js'), assetUrl('charts.js')] : [],
  });
}

export function mountDashboard(app: Hono<AppEnv>, services: PageDeps): void {
  app.get('/dashboard/:ws', async (c) => {
    const access = await requireMember(c, services, c.req.param('ws'));
    if (access instanceof Response) return access;
    return c.html(await renderOverview(c, services, access));
  });
}
