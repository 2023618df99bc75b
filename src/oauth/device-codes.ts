// RFC 8628 device authorization: a device without a browser asks for a device code and a user code, shows the user
// code, and polls the token endpoint while the user approves on the /device page from another device.
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import type { DeviceCodesTable, OAuthTables } from './tables.ts';

/** RFC 8628 §6.1: 20 consonants, no vowels (no words) and no look-alikes; 8 of them are 20^8 ≈ 2^34.6 codes. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** How long a device code lives (RFC 8628 §3.2 `expires_in`). */
export const DEVICE_CODE_TTL_S = 600;
/** The polling interval a device starts with (RFC 8628 §3.2 `interval`, default 5). */
export const DEVICE_POLL_INTERVAL_S = 5;
/** Kept this long past expiry, so a late poll is told `expired_token` rather than `invalid_grant`. */
const KEEP_EXPIRED_MS = 3_600_000;

/** `BCDF-GHJK` as shown; what a person types is upper-cased and stripped of everything but the alphabet. */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;
export function normalizeUserCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[^A-Z]/g, '');
  return code.length === USER_CODE_LENGTH && [...code].every((ch) => USER_CODE_ALPHABET.includes(ch)) ? code : undefined;
}

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

export type PollOutcome =
  | { kind: 'unknown' }
  | { kind: 'slow_down'; row: DeviceCodesTable }
  | { kind: 'ready'; row: DeviceCodesTable };

export function deviceCodesService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  return {
    async create(input: { clientId: string; scopes: string[]; resource: string | null; resourceImplicit: boolean; issuer: string }): Promise<{ deviceCode: string; userCode: string; expiresIn: number; interval: number }> {
      const deviceCode = randomToken(32);
      const now = Date.now();
      for (let attempt = 0; ; attempt++) {
        const userCode = newUserCode();
        const row: DeviceCodesTable = {
          device_code_hash: sha256Hex(deviceCode), user_code: userCode, client_id: input.clientId, scope: input.scopes.join(' '), resource: input.resource,
          resource_implicit: input.resourceImplicit ? 1 : 0, issuer: input.issuer, status: 'pending', interval_s: DEVICE_POLL_INTERVAL_S, last_poll_at: null,
          user_id: null, workspace_id: null, granted_resource: null, auth_time: null, created_at: now, expires_at: now + DEVICE_CODE_TTL_S * 1000,
        };
        const r = await db.insertInto('oauth_device_codes').values(row).onConflict((oc) => oc.column('user_code').doNothing()).executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return { deviceCode, userCode, expiresIn: DEVICE_CODE_TTL_S, interval: DEVICE_POLL_INTERVAL_S };
        if (attempt >= 5) throw new Error('could not allocate a user code');
      }
    },

    /** The pending, unexpired request a user code names (what the /device page shows). */
    async findPending(userCode: string): Promise<DeviceCodesTable | undefined> {
      const code = normalizeUserCode(userCode);
      if (!code) return undefined;
      const row = await db.selectFrom('oauth_device_codes').selectAll().where('user_code', '=', code).executeTakeFirst();
      return row && row.status === 'pending' && row.expires_at > Date.now() ? row : undefined;
    },

    /** Records the user's decision on a pending request; false when it is no longer pending (decided, expired). */
    async decide(userCode: string, decision: { approve: true; userId: string; workspaceId: string; resource: string; authTime: number } | { approve: false; userId: string }): Promise<boolean> {
      const code = normalizeUserCode(userCode);
      if (!code) return false;
      const set = decision.approve
        ? { status: 'approved' as const, user_id: decision.userId, workspace_id: decision.workspaceId, granted_resource: decision.resource, auth_time: decision.authTime }
        : { status: 'denied' as const, user_id: decision.userId };
      // Only a pending, unexpired request changes: of two concurrent decisions exactly one applies.
      const r = await db.updateTable('oauth_device_codes').set(set).where('user_code', '=', code).where('status', '=', 'pending').where('expires_at', '>', Date.now()).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /**
     * A poll by the device. RFC 8628 §3.5: a poll sooner than the interval is `slow_down`, and the interval grows by
     * 5 s. The poll time is recorded either way, so a device that keeps hammering keeps being told to slow down.
     */
    async poll(deviceCode: string): Promise<PollOutcome> {
      if (!deviceCode || deviceCode.length > 256) return { kind: 'unknown' };
      const hash = sha256Hex(deviceCode);
      const row = await db.selectFrom('oauth_device_codes').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
      if (!row) return { kind: 'unknown' };
      const now = Date.now();
      const early = row.last_poll_at !== null && now - Number(row.last_poll_at) < row.interval_s * 1000;
      const interval = early ? row.interval_s + 5 : row.interval_s;
      await db.updateTable('oauth_device_codes').set({ last_poll_at: now, interval_s: interval }).where('device_code_hash', '=', hash).execute();
      const current = { ...row, last_poll_at: now, interval_s: interval };
      return early && row.status === 'pending' ? { kind: 'slow_down', row: current } : { kind: 'ready', row: current };
    },

    /** Marks an approved request used, atomically: true for exactly one of concurrent redemptions. */
    async consume(deviceCodeHash: string, trx: Kysely<OAuthTables> = db): Promise<boolean> {
      const r = await trx.updateTable('oauth_device_codes').set({ status: 'used' }).where('device_code_hash', '=', deviceCodeHash).where('status', '=', 'approved').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async deleteOld(): Promise<void> {
      await db.deleteFrom('oauth_device_codes').where('expires_at', '<', Date.now() - KEEP_EXPIRED_MS).execute();
    },
  };
}

export type DeviceCodes = ReturnType<typeof deviceCodesService>;
