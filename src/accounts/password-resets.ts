// Self-service password reset: a single-use, short-lived link (random token, SHA-256 stored). A request for an
// unknown address does the same database work as one for a known address (a row without a user), so neither the
// answer nor its timing tells whether an account exists. Using the link sets the password, spends every other open
// link of the account and ends all of its sessions, in one transaction.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Config } from '../config/config.ts';
import { UserFacingError } from '../util/errors.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import { AccountsError } from './errors.ts';
import { hashPassword } from './password.ts';
import type { AccountsTables } from './tables.ts';
import { MIN_PASSWORD_LENGTH, normalizeEmail } from './users.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export type ResetRefusal = 'invalid' | 'expired' | 'used';

const MESSAGES: Record<ResetRefusal, string> = {
  invalid: 'This password-reset link is not valid. Check that you copied the whole link, or ask for a new one.',
  expired: 'This password-reset link has expired. Ask for a new one.',
  used: 'This password-reset link has already been used. Ask for a new one if you still need it.',
};

export class ResetRefused extends UserFacingError {
  readonly reason: ResetRefusal;
  constructor(reason: ResetRefusal) {
    super(MESSAGES[reason]);
    this.reason = reason;
  }
}

/** Links (and the rows of requests for unknown addresses) are deleted a day after they expire. */
const KEEP_EXPIRED_MS = 86_400_000;
const CLEAN_UP_EVERY_MS = 3_600_000;

export function passwordResetsService(store: Store, config: Pick<Config, 'passwordResetTtlSeconds'>) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();
  let lastCleanUp = 0;

  async function state(trx: Kysely<AccountsTables>, hash: string, now: number): Promise<ResetRefusal | { userId: string; email: string }> {
    const row = await trx
      .selectFrom('password_resets')
      .leftJoin('users', 'users.id', 'password_resets.user_id')
      .select(['password_resets.user_id', 'password_resets.expires_at', 'password_resets.used_at', 'users.email'])
      .where('password_resets.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row || !row.user_id || !row.email) return 'invalid';
    if (row.used_at !== null) return 'used';
    if (Number(row.expires_at) <= now) return 'expired';
    return { userId: row.user_id, email: row.email };
  }

  return {
    ttlSeconds: config.passwordResetTtlSeconds,

    /**
     * Issues a link for the account with this address. Returns the token and the account's address when there is
     * one; for an unknown address it stores an unusable row all the same (equal work, equal time) and returns nothing.
     */
    async requestReset(email: string): Promise<{ token: string; email: string } | undefined> {
      const now = Date.now();
      const token = randomToken();
      const user = await db.selectFrom('users').select(['id', 'email']).where('email_normalized', '=', normalizeEmail(email.slice(0, 320))).executeTakeFirst();
      await db
        .insertInto('password_resets')
        .values({ token_hash: sha256Hex(token), user_id: user?.id ?? null, created_at: now, expires_at: now + config.passwordResetTtlSeconds * 1000, used_at: null })
        .execute();
      // Housekeeping, at most hourly per process, whichever kind of request comes (equal work either way).
      if (now - lastCleanUp > CLEAN_UP_EVERY_MS) {
        lastCleanUp = now;
        await this.deleteOld(KEEP_EXPIRED_MS);
      }
      return user ? { token, email: user.email } : undefined;
    },

    /** The account a link resets, or why it cannot be used (without using it up). */
    async checkToken(token: string | undefined): Promise<ResetRefusal | { userId: string; email: string }> {
      if (!token || token.length > 128) return 'invalid';
      return state(db, sha256Hex(token), Date.now());
    },

    /**
     * Sets the new password through the link, once; ends every session of the account. Throws ResetRefused. With
     * `audit` (the request's address, user agent and request id), `user.password_reset` is recorded in the same
     * transaction, as the account's owner (whoever holds the link acts as the account), never with the password or link.
     */
    async resetPassword(token: string, password: string, audit?: AuditContext): Promise<{ userId: string; email: string }> {
      if (password.length < MIN_PASSWORD_LENGTH) throw new AccountsError('weak_password', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
      if (!token || token.length > 128) throw new ResetRefused('invalid');
      const hash = sha256Hex(token);
      const passwordHash = await hashPassword(password);
      const now = Date.now();
      return db.transaction().execute(async (trx) => {
        const found = await state(trx, hash, now);
        if (typeof found === 'string') throw new ResetRefused(found);
        // The conditional update is the single-use guarantee when two requests race with the same link.
        const r = await trx.updateTable('password_resets').set({ used_at: now }).where('token_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
        if (!Number(r.numUpdatedRows)) throw new ResetRefused('used');
        await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', found.userId).execute();
        await trx.updateTable('password_resets').set({ used_at: now }).where('user_id', '=', found.userId).where('used_at', 'is', null).execute();
        await trx.deleteFrom('sessions').where('user_id', '=', found.userId).execute();
        if (audit) {
          await recordAudit(trx, { ...audit, actor: { type: 'user', id: found.userId, label: found.email }, action: 'user.password_reset', target: { type: 'user', id: found.userId }, after: { via: 'reset link', signed_out_everywhere: true } });
        }
        return found;
      });
    },

    async deleteOld(olderThanMs: number): Promise<number> {
      const r = await db.deleteFrom('password_resets').where('expires_at', '<', Date.now() - olderThanMs).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type PasswordResetsService = ReturnType<typeof passwordResetsService>;
