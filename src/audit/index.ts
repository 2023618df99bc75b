// The audit module's public face. Any module records a change with `recordAudit(trx, entry)` inside the change's
// own transaction; pages and the API read the trail with `list`.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { listAudit, recordAudit, type AuditEntry, type AuditFilter } from './audit.ts';
import type { AuditTables } from './tables.ts';

export { recordAudit, redact, REDACTED, type AuditActor, type AuditContext, type AuditEntry, type AuditFilter, type AuditRecord, type ActorType } from './audit.ts';

export function auditModule(store: Store) {
  const db: Kysely<AuditTables> = store.typed<AuditTables>();
  return {
    /** Newest first, filtered; `nextBeforeId` pages on. */
    list: (filter: AuditFilter = {}) => listAudit(db, filter),
    /** Records an event that is not part of another change (a sign-in, a failed sign-in), in its own statement. */
    record: (entry: AuditEntry) => recordAudit(db, entry),
    /** Deletes the entries older than `before` (ms); how many went. */
    prune: async (before: number): Promise<number> => Number((await db.deleteFrom('audit_log').where('at', '<', before).executeTakeFirst()).numDeletedRows),
  };
}

export type Audit = ReturnType<typeof auditModule>;
