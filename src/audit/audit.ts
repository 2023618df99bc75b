// The audit trail: who changed what, written with `recordAudit(trx, entry)` inside the transaction of the change
// itself, so a change and its record commit together or not at all. Values are redacted by key before they are
// stored: nothing named like a secret, password, token or hash is ever written, whatever a caller passes.
import type { Kysely, Transaction } from 'kysely';
import type { AuditLogTable, AuditTables } from './tables.ts';

export type ActorType = 'user' | 'cli' | 'api_key' | 'system' | 'anonymous';

export interface AuditActor {
  readonly type: ActorType;
  /** A user id, an API key id, … */
  readonly id?: string | null;
  /** What a person reads: an email, a key's name, the OS user at the CLI. */
  readonly label?: string | null;
}

/** Who did it and from where: built once per request (or CLI command) and passed to every change it makes. */
export interface AuditContext {
  readonly actor: AuditActor;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly requestId?: string | null;
}

export interface AuditEntry extends AuditContext {
  /** `<thing>.<verb>`: `workspace.created`, `member.role_changed`, `credits.granted`, `client.secret_rotated`, `signin.failed`, … */
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  /** The workspace it concerns, so its owners see it on their audit page. */
  readonly workspaceId?: string | null;
  /** The state before and after, where it matters (a role, a plan, a balance); redacted by key. */
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface AuditRecord {
  id: number;
  at: number;
  actor: { type: string; id: string | null; label: string | null };
  action: string;
  target: { type: string; id: string };
  workspaceId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** Keys whose values are never stored (matched anywhere in the key, case-insensitively). */
const SECRET_KEY = /secret|password|passwd|token|hash|authorization|cookie|api[_-]?key|private|credential|session/i;
export const REDACTED = '[redacted]';

/** A copy with every secret-named key's value replaced, nested objects and arrays included. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    return out;
  }
  if (typeof value === 'string') return value.length > 2000 ? `${value.slice(0, 2000)}…` : value;
  return value;
}

const clip = (s: string | null | undefined, n: number): string | null => (s == null ? null : s.length > n ? s.slice(0, n) : s);
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(redact(v)));

/** Any module's Kysely transaction (or database): the audit table is reached only through these functions. */
export type AnyTransaction = Transaction<any> | Kysely<any>;

/**
 * Records one change. Call it inside the transaction that makes the change, with the context of whoever asked:
 *
 *   await db.transaction().execute(async (trx) => {
 *     await trx.updateTable('memberships')…;
 *     await recordAudit(trx, { ...audit, action: 'member.role_changed', target: { type: 'user', id }, workspaceId, before: { role: 'member' }, after: { role: 'admin' } });
 *   });
 */
export async function recordAudit(trx: AnyTransaction, entry: AuditEntry): Promise<void> {
  const row: Omit<AuditLogTable, 'id'> = {
    at: Date.now(),
    actor_type: entry.actor.type,
    actor_id: clip(entry.actor.id, 64),
    actor_label: clip(entry.actor.label, 320),
    action: clip(entry.action, 64)!,
    target_type: clip(entry.target.type, 32)!,
    target_id: clip(entry.target.id, 2048)!,
    workspace_id: clip(entry.workspaceId, 64),
    before_json: json(entry.before),
    after_json: json(entry.after),
    ip: clip(entry.ip, 64),
    user_agent: clip(entry.userAgent, 500),
    request_id: clip(entry.requestId, 64),
  };
  await (trx as unknown as Kysely<AuditTables>).insertInto('audit_log').values(row).execute();
}

export interface AuditFilter {
  workspaceId?: string;
  /** Exact action, or a prefix ending in `.` (`member.`). */
  action?: string;
  /** Matches the actor's id or label exactly. */
  actor?: string;
  targetId?: string;
  /** Exact target type (`workspace`, `client`, `user`, …). */
  targetType?: string;
  /** Records at or after this time (ms). */
  since?: number;
  /** Records before this time (ms). */
  until?: number;
  /** Only records older than this id (paging, newest first). */
  beforeId?: number;
  limit?: number;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

export async function listAudit(db: Kysely<AuditTables>, filter: AuditFilter = {}): Promise<{ records: AuditRecord[]; nextBeforeId: number | null }> {
  const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
  let q = db.selectFrom('audit_log').selectAll();
  if (filter.workspaceId) q = q.where('workspace_id', '=', filter.workspaceId);
  if (filter.action) q = filter.action.endsWith('.') ? q.where('action', 'like', `${filter.action.replace(/[%_\\]/g, '')}%`) : q.where('action', '=', filter.action);
  if (filter.actor) q = q.where((eb) => eb.or([eb('actor_id', '=', filter.actor!), eb('actor_label', '=', filter.actor!)]));
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.targetType) q = q.where('target_type', '=', filter.targetType);
  if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('at', '<', filter.until);
  if (filter.beforeId) q = q.where('id', '<', filter.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const records = rows.slice(0, limit).map((r) => ({
    id: Number(r.id), at: Number(r.at), actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label }, action: r.action,
    target: { type: r.target_type, id: r.target_id }, workspaceId: r.workspace_id, before: parse(r.before_json), after: parse(r.after_json),
    ip: r.ip, userAgent: r.user_agent, requestId: r.request_id,
  }));
  return { records, nextBeforeId: rows.length > limit ? records[records.length - 1].id : null };
}
