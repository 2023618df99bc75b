// Management API keys: `tgk_<id>_<secret>`, shown once and stored as a SHA-256 hash. A key reads or writes, on every
// workspace or on one; it may expire; revocation is immediate (every request reads the key's row). The last-used
// time is written at most once a minute per key and process, never on the request's own path.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { randomToken, safeEqual, sha256Hex } from '../util/ids.ts';
import { UserFacingError } from '../util/errors.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import type { ApiKeyAccess, ApiKeysTable, ApiTables } from './tables.ts';

export const API_KEY_PREFIX = 'tgk_';
const KEY_RE = /^tgk_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const TOUCH_INTERVAL_MS = 60_000;

export interface ApiKey {
  id: string;
  name: string;
  access: ApiKeyAccess;
  /** null: every workspace. */
  workspaceId: string | null;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export class ApiKeyError extends UserFacingError {}

const toKey = (r: ApiKeysTable): ApiKey => ({
  id: r.id,
  name: r.name,
  access: r.access,
  workspaceId: r.workspace_id,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  expiresAt: r.expires_at === null ? null : Number(r.expires_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function keyId(): string {
  // 16 characters from 62: ~95 bits, so ids never collide in practice and reveal nothing of the secret.
  const bytes = Buffer.from(randomToken(24), 'base64url');
  let out = '';
  for (let i = 0; out.length < 16 && i < bytes.length; i++) if (bytes[i] < 248) out += ALNUM[bytes[i] % 62];
  return out.length === 16 ? out : keyId();
}

export function apiKeysService(store: Store) {
  const db: Kysely<ApiTables> = store.typed<ApiTables>();
  const touched = new Map<string, number>();

  return {
    /** Creates a key; the returned `secret` is the whole key, shown once. With `audit`, recorded with it (never the secret). */
    async createKey(
      input: { name: string; access: ApiKeyAccess; workspaceId?: string | null; expiresAt?: number | null; createdBy?: string | null },
      audit?: AuditContext,
    ): Promise<{ key: ApiKey; secret: string }> {
      const name = input.name.trim().slice(0, 200);
      if (!name) throw new ApiKeyError('An API key needs a name (what it is for)');
      if (input.access !== 'read' && input.access !== 'write') throw new ApiKeyError('An API key\'s access is "read" or "write"');
      if (input.expiresAt != null && (!Number.isSafeInteger(input.expiresAt) || input.expiresAt <= Date.now())) throw new ApiKeyError('The expiry must be in the future');
      const id = keyId();
      const secret = `${API_KEY_PREFIX}${id}_${randomToken(32)}`;
      const row: ApiKeysTable = {
        id,
        name,
        secret_hash: sha256Hex(secret),
        access: input.access,
        workspace_id: input.workspaceId ?? null,
        created_by: input.createdBy ?? null,
        created_at: Date.now(),
        expires_at: input.expiresAt ?? null,
        last_used_at: null,
        revoked_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('api_keys').values(row).execute();
        if (audit) {
          await recordAudit(trx, {
            ...audit,
            action: 'api_key.created',
            target: { type: 'api_key', id },
            workspaceId: row.workspace_id,
            after: { name, access: row.access, workspace_id: row.workspace_id, expires_at: row.expires_at },
          });
        }
      });
      return { key: toKey(row), secret };
    },

    async listKeys(options: { workspaceId?: string } = {}): Promise<ApiKey[]> {
      let q = db.selectFrom('api_keys').selectAll();
      if (options.workspaceId) q = q.where('workspace_id', '=', options.workspaceId);
      return (await q.orderBy('created_at', 'desc').orderBy('id').execute()).map(toKey);
    },

    async getKey(id: string): Promise<ApiKey | undefined> {
      if (!/^[A-Za-z0-9]{16}$/.test(id)) return undefined;
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKey(row);
    },

    /** Revokes a key (idempotent); true when it was live. With `audit`, a revocation is recorded with it. */
    async revokeKey(id: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
        const revoked = Number(r.numUpdatedRows) > 0;
        if (audit && revoked) {
          const key = await trx.selectFrom('api_keys').select(['name', 'workspace_id']).where('id', '=', id).executeTakeFirst();
          await recordAudit(trx, { ...audit, action: 'api_key.revoked', target: { type: 'api_key', id }, workspaceId: key?.workspace_id ?? null, before: { name: key?.name ?? null } });
        }
        return revoked;
      });
    },

    /** The live key this bearer value is, or why not. Constant-time comparison of the hashes. */
    async verifyKey(presented: string): Promise<{ ok: true; key: ApiKey } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' }> {
      const m = KEY_RE.exec(presented);
      if (!m) return { ok: false, reason: 'malformed' };
      const row = await db.selectFrom('api_keys').selectAll().where('id', '=', m[1]).executeTakeFirst();
      if (!row || !safeEqual(row.secret_hash, sha256Hex(presented))) return { ok: false, reason: 'unknown' };
      if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
      if (row.expires_at !== null && Number(row.expires_at) <= Date.now()) return { ok: false, reason: 'expired' };
      return { ok: true, key: toKey(row) };
    },

    /** Records use, at most once a minute per key and process; never fails or delays the caller. */
    touchKey(id: string): void {
      const now = Date.now();
      const last = touched.get(id);
      if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
      if (touched.size > 10_000) touched.clear();
      touched.set(id, now);
      db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute().catch(() => touched.delete(id));
    },
  };
}

export type ApiKeysService = ReturnType<typeof apiKeysService>;
