// The audit trail, read through the API: who changed what (actor, action, target, before and after), from where (IP,
// user agent, request id), newest first, with cursor paging and filters; and the same as CSV for export. A key for
// one workspace sees that workspace's entries only (never deployment-wide ones such as API keys or sign-in settings).
import type { AuditFilter, AuditRecord } from '../../audit/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiKey } from '../keys.ts';
import { define, type JsonSchema, type Operation } from '../operation.ts';
import { decodeCursor, encodeCursor } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { iso, pageOf, PAGING_QUERY, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { csvField } from './usage.ts';
import { workspaceSlugs } from '../views.ts';

const FILTERS: Record<string, JsonSchema> = {
  workspace: { ...WORKSPACE_SLUG_SCHEMA, description: "Only this workspace's entries (a key for one workspace always sees only its own)." },
  actor: { type: 'string', minLength: 1, maxLength: 320, description: "Who: an actor's id (user id, API key id) or label (email, key name, OS user at the CLI), exactly." },
  action: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.]+$', description: 'What: an action (`member.role_changed`), or a prefix ending in `.` (`member.`).' },
  target_type: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$', description: 'The kind of thing changed (`workspace`, `user`, `client`, `api_key`, …).' },
  target_id: { type: 'string', minLength: 1, maxLength: 2048, description: 'The thing changed (its id).' },
  since: { type: 'string', format: 'date-time', description: 'Entries at or after this time.' },
  until: { type: 'string', format: 'date-time', description: 'Entries before this time.' },
};

/** The CSV export's most rows in one answer; more are reached with the `Next-Cursor` header. */
export const AUDIT_CSV_MAX_ROWS = 10_000;
const CSV_COLUMNS = ['id', 'at', 'actor_type', 'actor_id', 'actor_label', 'action', 'target_type', 'target_id', 'workspace_id', 'workspace', 'before', 'after', 'ip', 'user_agent', 'request_id'] as const;

export function auditOperations(deps: ApiDeps): Operation[] {
  /** The filter the key may read: its own workspace only, when it is a key for one. */
  async function filterFor(key: ApiKey, query: Record<string, unknown>): Promise<AuditFilter> {
    let workspaceId = key.workspaceId ?? undefined;
    if (query.workspace !== undefined) {
      const ws = await deps.accounts.workspaces.getWorkspaceBySlug(query.workspace as string);
      // As for every workspace path: the same answer whether or not another workspace exists.
      if (key.workspaceId && ws?.id !== key.workspaceId) throw new ApiProblem('forbidden_workspace', 'This API key is for another workspace');
      if (!ws) throw new ApiProblem('not_found', `Workspace "${query.workspace as string}" not found`);
      workspaceId = ws.id;
    }
    const since = query.since === undefined ? undefined : Date.parse(query.since as string);
    const until = query.until === undefined ? undefined : Date.parse(query.until as string);
    if (since !== undefined && until !== undefined && until <= since) throw new ApiProblem('invalid_request', '`until` must be after `since`', { extra: { errors: [{ pointer: '/query/until', detail: 'is not after since' }] } });
    const cursor = decodeCursor(query.cursor as string | undefined);
    if (cursor !== undefined && !/^[1-9]\d{0,15}$/.test(cursor)) throw new ApiProblem('invalid_request', 'The cursor is not one this API returned', { extra: { errors: [{ pointer: '/cursor', detail: 'not a cursor' }] } });
    return {
      workspaceId,
      actor: query.actor as string | undefined,
      action: query.action as string | undefined,
      targetType: query.target_type as string | undefined,
      targetId: query.target_id as string | undefined,
      since,
      until,
      beforeId: cursor === undefined ? undefined : Number(cursor),
    };
  }

  const view = (r: AuditRecord, slugOf: Map<string, string | null>) => ({
    id: r.id,
    at: iso(r.at),
    actor: { type: r.actor.type, id: r.actor.id, label: r.actor.label },
    action: r.action,
    target: { type: r.target.type, id: r.target.id },
    workspace_id: r.workspaceId,
    workspace: r.workspaceId === null ? null : (slugOf.get(r.workspaceId) ?? null),
    before: r.before ?? null,
    after: r.after ?? null,
    ip: r.ip,
    user_agent: r.userAgent,
    request_id: r.requestId,
  });

  const query = { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY, ...FILTERS } } as const;

  return [
    define({
      operationId: 'listAudit',
      method: 'get',
      path: '/audit',
      tag: 'Audit',
      summary: 'The audit trail, newest first: who changed what, when and from where (filter by workspace, actor, action, target, time)',
      description: 'Every change made through the API, the CLI or the web UI, and sign-ins, with before/after where it matters. Never contains a secret. A key for one workspace sees only that workspace\'s entries.',
      access: 'read',
      query,
      response: { status: 200, description: 'A page of audit entries', schema: pageOf('AuditEntry') },
      async handle({ key, query: q }) {
        const filter = await filterFor(key, q);
        const page = await deps.audit.list({ ...filter, limit: q.limit as number });
        const slugOf = await workspaceSlugs(deps, page.records.map((r) => r.workspaceId));
        return { status: 200, body: { data: page.records.map((r) => view(r, slugOf)), next_cursor: page.nextBeforeId === null ? null : encodeCursor(String(page.nextBeforeId)) } };
      },
    }),
    define({
      operationId: 'listAuditCsv',
      method: 'get',
      path: '/audit.csv',
      tag: 'Audit',
      summary: `The same entries as CSV (RFC 4180), newest first, up to ${AUDIT_CSV_MAX_ROWS} rows from \`cursor\`; a \`Next-Cursor\` header names the rest`,
      description: `Columns: ${CSV_COLUMNS.join(', ')}; \`before\` and \`after\` are JSON. \`limit\` is ignored: the export pages itself.`,
      access: 'read',
      query,
      response: { status: 200, description: 'CSV (RFC 4180)', mediaType: 'text/csv', schema: { type: 'string' } },
      async handle({ key, query: q }) {
        const filter = await filterFor(key, q);
        const rows: string[] = [CSV_COLUMNS.join(',')];
        let beforeId = filter.beforeId;
        let next: number | null = null;
        const slugOf = new Map<string, string | null>();
        while (rows.length - 1 < AUDIT_CSV_MAX_ROWS) {
          const page = await deps.audit.list({ ...filter, beforeId, limit: Math.min(500, AUDIT_CSV_MAX_ROWS - (rows.length - 1)) });
          await workspaceSlugs(deps, page.records.map((r) => r.workspaceId), slugOf);
          for (const r of page.records) {
            const v = view(r, slugOf);
            const cells = [v.id, v.at, v.actor.type, v.actor.id ?? '', v.actor.label ?? '', v.action, v.target.type, v.target.id, v.workspace_id ?? '', v.workspace ?? '', v.before === null ? '' : JSON.stringify(v.before), v.after === null ? '' : JSON.stringify(v.after), v.ip ?? '', v.user_agent ?? '', v.request_id ?? ''];
            rows.push(cells.map(csvField).join(','));
          }
          next = page.nextBeforeId;
          if (next === null) break;
          beforeId = next;
        }
        const headers: Record<string, string> = { 'Content-Disposition': `attachment; filename="audit${q.workspace ? `-${q.workspace as string}` : ''}.csv"` };
        if (next !== null) headers['Next-Cursor'] = encodeCursor(String(next));
        return { status: 200, text: rows.join('\r\n') + '\r\n', contentType: 'text/csv; charset=utf-8', headers };
      },
    }),
  ];
}
