// Provider identities linked to accounts, keyed by (iss, sub), and which connection each browser session came
// through (for workspaces that require one).
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { sha256Hex } from '../util/ids.ts';
import { isUniqueViolation } from '../accounts/index.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import type { IdentityTables } from './tables.ts';

export interface LinkedIdentity {
  issuer: string;
  subject: string;
  userId: string;
  connectionId: string;
  connectionLabel: string;
  connectionName: string;
  email: string;
  createdAt: number;
  lastUsedAt: number;
}

export function linksService(store: Store) {
  const db: Kysely<IdentityTables> = store.typed<IdentityTables>();
  return {
    /** The account linked to this provider identity (never found by e-mail: OpenID Connect Core §5.7). */
    async findUserId(issuer: string, subject: string): Promise<string | undefined> {
      const row = await db.selectFrom('identity_links').select('user_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
      return row?.user_id;
    },

    /** Links; false when this (iss, sub) is already linked (to anyone). With `audit`, `identity.linked` is recorded with it. */
    async link(input: { issuer: string; subject: string; userId: string; connectionId: string; email: string }, audit?: AuditContext): Promise<boolean> {
      const now = Date.now();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('identity_links')
            .values({ issuer: input.issuer, subject: input.subject, user_id: input.userId, connection_id: input.connectionId, email: input.email.slice(0, 320), created_at: now, last_used_at: now })
            .execute();
          if (audit) await recordAudit(trx, { ...audit, action: 'identity.linked', target: { type: 'user', id: input.userId }, after: { issuer: input.issuer, subject: input.subject, connection_id: input.connectionId, email: input.email } });
        });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    async touch(issuer: string, subject: string, email: string): Promise<void> {
      await db.updateTable('identity_links').set({ last_used_at: Date.now(), email: email.slice(0, 320) }).where('issuer', '=', issuer).where('subject', '=', subject).execute();
    },

    async listForUser(userId: string): Promise<LinkedIdentity[]> {
      const rows = await db
        .selectFrom('identity_links')
        .innerJoin('identity_connections', 'identity_connections.id', 'identity_links.connection_id')
        .selectAll('identity_links')
        .select(['identity_connections.label as label', 'identity_connections.name as name'])
        .where('identity_links.user_id', '=', userId)
        .orderBy('identity_links.created_at')
        .execute();
      return rows.map((r) => ({ issuer: r.issuer, subject: r.subject, userId: r.user_id, connectionId: r.connection_id, connectionLabel: r.label, connectionName: r.name, email: r.email, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
    },

    /** Unlinks; with `audit`, `identity.unlinked` is recorded in the same transaction (when there was a link). */
    async unlink(userId: string, issuer: string, subject: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('identity_links').where('user_id', '=', userId).where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
        const gone = Number(r.numDeletedRows) > 0;
        if (gone && audit) await recordAudit(trx, { ...audit, action: 'identity.unlinked', target: { type: 'user', id: userId }, before: { issuer, subject } });
        return gone;
      });
    },

    /** Records that the session with this cookie was signed in through `connectionId`. */
    async recordSession(cookieValue: string, connectionId: string, expiresAt: number): Promise<void> {
      const now = Date.now();
      await db.deleteFrom('identity_sessions').where('expires_at', '<=', now).execute();
      await db.insertInto('identity_sessions').values({ session_hash: sha256Hex(cookieValue), connection_id: connectionId, expires_at: expiresAt }).execute();
    },

    /** The connection the session came through; undefined for a password sign-in (or no session). */
    async sessionConnection(cookieValue: string | undefined): Promise<string | undefined> {
      if (!cookieValue || cookieValue.length > 128) return undefined;
      const row = await db.selectFrom('identity_sessions').select(['connection_id', 'expires_at']).where('session_hash', '=', sha256Hex(cookieValue)).executeTakeFirst();
      return row && row.expires_at > Date.now() ? row.connection_id : undefined;
    },
  };
}

export type LinksService = ReturnType<typeof linksService>;
