// Usage per day, tool and client, as JSON or CSV (for invoices).
import { CreditsError, type UsageReport } from '../../credits/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { ApiProblem } from '../problem.ts';
import { ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';

const RANGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    days: { type: 'integer', minimum: 1, maximum: 366, description: 'The last N days (default 30), ending today (UTC).' },
    from: { type: 'string', format: 'date', description: 'First UTC day (inclusive).' },
    to: { type: 'string', format: 'date', description: 'Last UTC day (inclusive).' },
  },
};

const totals = (t: { calls: number; credits: number; errors: number }) => ({ calls: t.calls, credits: t.credits, errors: t.errors });

/** One CSV field (RFC 4180), with spreadsheet formula injection defused (a leading = + - @ is quoted with '). */
export function csvField(value: string | number): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(report: UsageReport): string {
  const rows: (string | number)[][] = [['dimension', 'key', 'calls', 'credits', 'errors']];
  for (const d of report.byDay) rows.push(['day', d.date, d.calls, d.credits, d.errors]);
  for (const t of report.byTool) rows.push(['tool', t.tool, t.calls, t.credits, t.errors]);
  for (const c of report.byClient) rows.push(['client', c.clientId, c.calls, c.credits, c.errors]);
  // The report names the busiest clients; the rest are summed in one row, so the columns still add up.
  if (report.otherClients) rows.push(['client', `(${report.otherClients.count} other clients)`, report.otherClients.calls, report.otherClients.credits, report.otherClients.errors]);
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function usageOperations(deps: ApiDeps): Operation[] {
  async function report(workspaceId: string, query: Record<string, unknown>): Promise<UsageReport> {
    try {
      return await deps.credits.usageReport(workspaceId, { days: query.days as number | undefined, from: query.from as string | undefined, to: query.to as string | undefined });
    } catch (err) {
      if (err instanceof CreditsError) throw new ApiProblem('invalid_request', err.message);
      throw err;
    }
  }
  return [
    define({
      operationId: 'getUsage',
      method: 'get',
      path: '/workspaces/{workspace}/usage',
      tag: 'Usage',
      summary: 'Calls, credits and errors per day, tool and client',
      access: 'read',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      query: RANGE_QUERY,
      response: { status: 200, description: 'The usage report', schema: ref('Usage') },
      async handle({ workspace, query }) {
        const r = await report(workspace.id, query);
        return {
          status: 200,
          body: {
            workspace: workspace.slug,
            from: r.range.from,
            to: r.range.to,
            totals: totals(r.totals),
            by_day: r.byDay.map((d) => ({ date: d.date, ...totals(d) })),
            by_tool: r.byTool.map((t) => ({ tool: t.tool, ...totals(t) })),
            by_client: r.byClient.map((c) => ({ client_id: c.clientId, ...totals(c) })),
          },
        };
      },
    }),
    define({
      operationId: 'getUsageCsv',
      method: 'get',
      path: '/workspaces/{workspace}/usage.csv',
      tag: 'Usage',
      summary: 'The same report as CSV: one row per day, tool and client (`dimension,key,calls,credits,errors`)',
      access: 'read',
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      query: RANGE_QUERY,
      response: { status: 200, description: 'CSV (RFC 4180)', mediaType: 'text/csv', schema: { type: 'string' } },
      async handle({ workspace, query }) {
        const r = await report(workspace.id, query);
        return { status: 200, text: usageCsv(r), contentType: 'text/csv; charset=utf-8', headers: { 'Content-Disposition': `attachment; filename="usage-${workspace.slug}-${r.range.from}-${r.range.to}.csv"` } };
      },
    }),
  ];
}
