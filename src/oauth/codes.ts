// Authorization codes: random, stored as SHA-256 hashes, single use, 60–120 s, bound to everything the token
// endpoint must check. A used code is kept until it expires so that a replay can revoke what it issued.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import type { CodesTable, OAuthTables } from './tables.ts';

export interface CodeInput {
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  codeChallenge: string;
  resource: string;
  resourceImplicit: boolean;
  scopes: string[];
  userId: string;
  workspaceId: string;
  issuer: string;
  nonce: string | null;
  authTime: number;
}

/** Used codes are kept this long past expiry, so a late replay still finds (and revokes) what it issued. */
const KEEP_USED_MS = 86_400_000;

export function codesService(store: Store, options: { codeTtlSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  return {
    async issueCode(input: CodeInput): Promise<string> {
      const code = randomToken(32);
      const now = Date.now();
      const row: CodesTable = {
        code_hash: sha256Hex(code),
        client_id: input.clientId,
        redirect_uri: input.redirectUri,
        redirect_uri_sent: input.redirectUriSent ? 1 : 0,
        code_challenge: input.codeChallenge,
        resource: input.resource,
        resource_implicit: input.resourceImplicit ? 1 : 0,
        scope: input.scopes.join(' '),
        user_id: input.userId,
        workspace_id: input.workspaceId,
        issuer: input.issuer,
        nonce: input.nonce,
        auth_time: input.authTime,
        created_at: now,
        expires_at: now + options.codeTtlSeconds * 1000,
        used_at: null,
        grant_id: null,
      };
      await db.insertInto('oauth_codes').values(row).execute();
      return code;
    },

    async findCode(code: string): Promise<CodesTable | undefined> {
      if (!code || code.length > 512) return undefined;
      return db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', sha256Hex(code)).executeTakeFirst();
    },

    /** Marks the code used, atomically: false when another redemption got there first. */
    async consumeCode(codeHash: string, trx: Kysely<OAuthTables>): Promise<boolean> {
      const r = await trx.updateTable('oauth_codes').set({ used_at: Date.now() }).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async recordGrant(codeHash: string, grantId: string, trx: Kysely<OAuthTables>): Promise<void> {
      await trx.updateTable('oauth_codes').set({ grant_id: grantId }).where('code_hash', '=', codeHash).execute();
    },

    async grantOf(codeHash: string): Promise<string | null> {
      const r = await db.selectFrom('oauth_codes').select('grant_id').where('code_hash', '=', codeHash).executeTakeFirst();
      return r?.grant_id ?? null;
    },

    async deleteOld(): Promise<void> {
      await db.deleteFrom('oauth_codes').where('expires_at', '<', Date.now() - KEEP_USED_MS).execute();
    },
  };
}

export type CodesService = ReturnType<typeof codesService>;
