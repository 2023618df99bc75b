// TOTP two-factor for password accounts: enrolment (a key sealed at rest with the server secret, confirmed by a
// first code), verification at sign-in (a time step is accepted once: no code works twice) and recovery codes
// (shown once, SHA-256 stored, each usable once).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/crypto-box.ts';
import { UserFacingError } from '../util/errors.ts';
import { sha256Hex } from '../util/ids.ts';
import { isUniqueViolation } from './errors.ts';
import type { AccountsTables } from './tables.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import { matchTotp, newTotpKey } from './totp.ts';

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export type TwoFactorStatus = 'off' | 'pending' | 'on';
export type VerifyResult = { ok: true; method: 'totp' | 'recovery' } | { ok: false; reason: 'wrong' | 'replayed' | 'not_enrolled' };

export class TwoFactorError extends UserFacingError {}

/** `xxxxx-xxxxx` from an unambiguous alphabet (~49 bits each). */
function newRecoveryCode(): string {
  let out = '';
  while (out.length < 10) {
    for (const b of randomBytes(16)) {
      if (b < 248 && out.length < 10) out += RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]; // 248 = 8 × 31: no bias
    }
  }
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** What a person may type for a recovery code: any case, with or without the dash and spaces. */
const normalizeRecoveryCode = (code: string): string => code.toLowerCase().replace(/[\s-]/g, '');

export function twoFactorService(store: Store, secret: string) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();
  const box = new SecretBox(secret, 'totp-key');
  const seal = (key: Buffer) => box.seal(key.toString('base64url'));
  const unseal = (sealed: string) => Buffer.from(box.open(sealed), 'base64url');

  async function replaceRecoveryCodes(trx: Kysely<AccountsTables>, userId: string, now: number): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await trx.insertInto('recovery_codes').values(codes.map((c) => ({ user_id: userId, code_hash: sha256Hex(normalizeRecoveryCode(c)), created_at: now, used_at: null }))).execute();
    return codes;
  }

  return {
    async status(userId: string): Promise<TwoFactorStatus> {
      const row = await db.selectFrom('user_totp').select('enabled_at').where('user_id', '=', userId).executeTakeFirst();
      return !row ? 'off' : row.enabled_at === null ? 'pending' : 'on';
    },

    /**
     * The key to show for enrolment: a new one, or the pending one (a reload shows the same key). Throws when
     * two-factor is already on.
     */
    async beginEnrolment(userId: string): Promise<Buffer> {
      const row = await db.selectFrom('user_totp').select(['secret_sealed', 'enabled_at']).where('user_id', '=', userId).executeTakeFirst();
      if (row?.enabled_at !== null && row?.enabled_at !== undefined) throw new TwoFactorError('Two-factor sign-in is already on for this account.');
      if (row) return unseal(row.secret_sealed);
      const key = newTotpKey();
      try {
        await db.insertInto('user_totp').values({ user_id: userId, secret_sealed: seal(key), enabled_at: null, last_step: null, created_at: Date.now() }).execute();
      } catch (err) {
        // Two tabs at once: the other one's key is the pending one.
        if (isUniqueViolation(err)) return this.beginEnrolment(userId);
        throw err;
      }
      return key;
    },

    /** Turns two-factor on when `code` is right for the pending key; returns the recovery codes (shown once). */
    async confirmEnrolment(userId: string, code: string, now = Date.now(), audit?: AuditContext): Promise<string[] | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('user_totp').select(['secret_sealed', 'enabled_at']).where('user_id', '=', userId).executeTakeFirst();
        if (!row || row.enabled_at !== null) return undefined;
        const step = matchTotp(unseal(row.secret_sealed), code.replace(/\s/g, ''), now);
        if (step === undefined) return undefined;
        const r = await trx.updateTable('user_totp').set({ enabled_at: now, last_step: step }).where('user_id', '=', userId).where('enabled_at', 'is', null).executeTakeFirst();
        if (!Number(r.numUpdatedRows)) return undefined;
        if (audit) await recordAudit(trx, { ...audit, action: 'two_factor.enabled', target: { type: 'user', id: userId } });
        return replaceRecoveryCodes(trx, userId, now);
      });
    },

    /**
     * Checks a sign-in code: six digits are a TOTP code (RFC 6238), anything else a recovery code. A TOTP step is
     * accepted only after the last one accepted (RFC 6238 §5.2: never the same code twice, even within its window).
     */
    async verify(userId: string, input: string, now = Date.now()): Promise<VerifyResult> {
      const code = input.trim().slice(0, 64);
      const row = await db.selectFrom('user_totp').select(['secret_sealed', 'enabled_at']).where('user_id', '=', userId).executeTakeFirst();
      if (!row || row.enabled_at === null) return { ok: false, reason: 'not_enrolled' };
      const digits = code.replace(/\s/g, '');
      if (/^\d{6}$/.test(digits)) {
        const step = matchTotp(unseal(row.secret_sealed), digits, now);
        if (step === undefined) return { ok: false, reason: 'wrong' };
        const r = await db
          .updateTable('user_totp')
          .set({ last_step: step })
          .where('user_id', '=', userId)
          .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
          .executeTakeFirst();
        return Number(r.numUpdatedRows) ? { ok: true, method: 'totp' } : { ok: false, reason: 'replayed' };
      }
      const normalized = normalizeRecoveryCode(code);
      if (!/^[a-z0-9]{10}$/.test(normalized)) return { ok: false, reason: 'wrong' };
      const r = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', sha256Hex(normalized))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) ? { ok: true, method: 'recovery' } : { ok: false, reason: 'wrong' };
    },

    async remainingRecoveryCodes(userId: string): Promise<number> {
      const r = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    /** New recovery codes (the old ones stop working); undefined when two-factor is off. */
    async regenerateRecoveryCodes(userId: string, audit?: AuditContext): Promise<string[] | undefined> {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('user_totp').select('enabled_at').where('user_id', '=', userId).executeTakeFirst();
        if (!row || row.enabled_at === null) return undefined;
        if (audit) await recordAudit(trx, { ...audit, action: 'two_factor.recovery_codes_replaced', target: { type: 'user', id: userId } });
        return replaceRecoveryCodes(trx, userId, Date.now());
      });
    },

    /** Turns two-factor off (the key and recovery codes are deleted); true when it was on or pending. */
    async disable(userId: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        const r = await trx.deleteFrom('user_totp').where('user_id', '=', userId).executeTakeFirst();
        const had = Number(r.numDeletedRows) > 0;
        if (had && audit) await recordAudit(trx, { ...audit, action: 'two_factor.disabled', target: { type: 'user', id: userId } });
        return had;
      });
    },
  };
}

export type TwoFactorService = ReturnType<typeof twoFactorService>;
