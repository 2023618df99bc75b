import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { newId } from '../util/ids.ts';
import { AccountsError, isUniqueViolation } from './errors.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { AccountsTables, UsersTable } from './tables.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  /** The address is known to be the user's (OpenID Connect Core §5.1 `email_verified`). */
  emailVerified: boolean;
  createdAt: number;
}

export const MIN_PASSWORD_LENGTH = 10;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The address rule accounts use (also for invitations). */
export const isEmailAddress = (email: string): boolean => EMAIL_RE.test(email) && email.length <= 320;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const toUser = (row: UsersTable): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  isAdmin: row.is_admin === 1,
  emailVerified: row.email_verified === 1,
  createdAt: row.created_at,
});

export function usersService(store: Store) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();
  return {
    /** `emailVerified`: the creator vouches for the address (an operator does; a self-service sign-up would not). */
    async createUser(input: { email: string; password?: string; name?: string; isAdmin?: boolean; emailVerified?: boolean }, audit?: AuditContext): Promise<User> {
      const email = input.email.trim();
      if (!EMAIL_RE.test(email) || email.length > 320) throw new AccountsError('invalid_email', `"${email}" is not a valid email address`);
      if (input.password !== undefined && input.password.length < MIN_PASSWORD_LENGTH) {
        throw new AccountsError('weak_password', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
      }
      const row: UsersTable = {
        id: newId(),
        email,
        email_normalized: normalizeEmail(email),
        name: (input.name ?? '').trim().slice(0, 200),
        password_hash: input.password === undefined ? null : await hashPassword(input.password),
        is_admin: input.isAdmin ? 1 : 0,
        email_verified: input.emailVerified ? 1 : 0,
        created_at: Date.now(),
      };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values(row).execute();
          if (audit) await recordAudit(trx, { ...audit, action: 'user.created', target: { type: 'user', id: row.id }, after: { email: row.email, name: row.name, is_admin: row.is_admin === 1 } });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AccountsError('email_taken', `A user with the email ${email} already exists`);
        throw err;
      }
      return toUser(row);
    },

    async getUser(id: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toUser(row);
    },

    async findUserByEmail(email: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
      return row && toUser(row);
    },

    /** The user when email and password match; undefined otherwise, in the same time either way. */
    async authenticate(email: string, password: string): Promise<User | undefined> {
      const row = await db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
      const ok = await verifyPassword(password, row?.password_hash);
      return ok && row ? toUser(row) : undefined;
    },

    async setPassword(userId: string, password: string, audit?: AuditContext): Promise<void> {
      if (password.length < MIN_PASSWORD_LENGTH) throw new AccountsError('weak_password', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
      const hash = await hashPassword(password);
      await db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).executeTakeFirst();
        if (!r.numUpdatedRows) throw new AccountsError('not_found', 'No such user');
        // Recorded that it changed, never what to (redaction would drop it anyway).
        if (audit) await recordAudit(trx, { ...audit, action: 'user.password_changed', target: { type: 'user', id: userId } });
      });
    },

    /** True when the account can sign in with a password (accounts made by a sign-in connection have none). */
    async hasPassword(userId: string): Promise<boolean> {
      const row = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
      return !!row?.password_hash;
    },

    async listUsers(): Promise<User[]> {
      const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('email_normalized').execute();
      return rows.map(toUser);
    },

    async countUsers(): Promise<number> {
      const r = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

export type UsersService = ReturnType<typeof usersService>;
