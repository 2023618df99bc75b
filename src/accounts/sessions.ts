import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import type { AccountsTables } from './tables.ts';
import type { User } from './users.ts';

export interface Session {
  user: User;
  /** When the user signed in (epoch ms): the session's start, since a session is never extended. */
  authTime: number;
  expiresAt: number;
}

/** Server-side sign-in sessions. The cookie carries a random id; the table keeps only its SHA-256. */
export function sessionsService(store: Store, ttlSeconds: number) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();
  return {
    async createSession(userId: string): Promise<{ cookieValue: string; expiresAt: number }> {
      const cookieValue = randomToken();
      const now = Date.now();
      const expiresAt = now + ttlSeconds * 1000;
      await db.insertInto('sessions').values({ id_hash: sha256Hex(cookieValue), user_id: userId, created_at: now, expires_at: expiresAt }).execute();
      return { cookieValue, expiresAt };
    },

    async getSession(cookieValue: string | undefined): Promise<Session | undefined> {
      if (!cookieValue || cookieValue.length > 128) return undefined;
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['users.id', 'users.email', 'users.name', 'users.is_admin', 'users.email_verified', 'users.created_at', 'sessions.created_at as session_created_at', 'sessions.expires_at'])
        .where('sessions.id_hash', '=', sha256Hex(cookieValue))
        .executeTakeFirst();
      if (!row || row.expires_at <= Date.now()) return undefined;
      return {
        user: { id: row.id, email: row.email, name: row.name, isAdmin: row.is_admin === 1, emailVerified: row.email_verified === 1, createdAt: row.created_at },
        authTime: Number(row.session_created_at),
        expiresAt: row.expires_at,
      };
    },

    async deleteSession(cookieValue: string | undefined): Promise<void> {
      if (!cookieValue) return;
      await db.deleteFrom('sessions').where('id_hash', '=', sha256Hex(cookieValue)).execute();
    },

    async deleteExpiredSessions(): Promise<number> {
      const r = await db.deleteFrom('sessions').where('expires_at', '<=', Date.now()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type SessionsService = ReturnType<typeof sessionsService>;
