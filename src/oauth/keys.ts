// Signing keys for JWT access tokens and id tokens: ES256, sealed at rest, rotated without breaking live tokens.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { publicKeyFromJwk } from './jwt.ts';
import type { OAuthTables, SigningKeysTable } from './tables.ts';

export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

const RELOAD_ACTIVE_MS = 30_000;
const RELOAD_ON_MISS_MS = 1_000;

export function signingKeysService(store: Store, box: SecretBox, options: { accessTokenTtlSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  let active: { signer: Signer; loadedAt: number } | undefined;
  const publicKeys = new Map<string, KeyObject>();
  let lastMissReload = 0;

  async function createKey(): Promise<SigningKeysTable> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomBytes(12).toString('base64url');
    const row: SigningKeysTable = {
      kid,
      alg: 'ES256',
      public_jwk: JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }),
      private_sealed: box.seal(JSON.stringify(privateKey.export({ format: 'jwk' }))),
      created_at: Date.now(),
      retired_at: null,
      remove_after: null,
    };
    await db.insertInto('oauth_signing_keys').values(row).execute();
    return row;
  }

  async function newestActive(): Promise<SigningKeysTable | undefined> {
    return db.selectFrom('oauth_signing_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'desc').orderBy('kid').limit(1).executeTakeFirst();
  }

  function toSigner(row: SigningKeysTable): Signer {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(box.open(row.private_sealed));
    } catch {
      throw new Error('Cannot decrypt the signing key: TOLLGATE_SECRET (or the data directory\'s secret file) differs from the one that created it');
    }
    return { kid: row.kid, privateKey: createPrivateKey({ key: jwk as never, format: 'jwk' }) };
  }

  async function loadPublicKeys(): Promise<void> {
    const rows = await db.selectFrom('oauth_signing_keys').select(['kid', 'public_jwk', 'remove_after']).execute();
    publicKeys.clear();
    const now = Date.now();
    for (const r of rows) if (r.remove_after === null || r.remove_after > now) publicKeys.set(r.kid, publicKeyFromJwk(JSON.parse(r.public_jwk)));
  }

  return {
    /** Makes sure a signing key exists and can be decrypted with this process's secret (called at start). */
    async ensureKey(): Promise<void> {
      const row = (await newestActive()) ?? (await createKey());
      active = { signer: toSigner(row), loadedAt: Date.now() };
      await loadPublicKeys();
    },

    /** The key new tokens are signed with; re-read periodically so a rotation in another process is picked up. */
    async activeSigner(): Promise<Signer> {
      if (!active || Date.now() - active.loadedAt > RELOAD_ACTIVE_MS) {
        const row = (await newestActive()) ?? (await createKey());
        active = active?.signer.kid === row.kid ? { signer: active.signer, loadedAt: Date.now() } : { signer: toSigner(row), loadedAt: Date.now() };
      }
      return active.signer;
    },

    /** The public key for a `kid`, reloading (at most once a second) when it is unknown here. */
    async publicKey(kid: string): Promise<KeyObject | undefined> {
      const known = publicKeys.get(kid);
      if (known) return known;
      if (Date.now() - lastMissReload < RELOAD_ON_MISS_MS) return undefined;
      lastMissReload = Date.now();
      await loadPublicKeys();
      return publicKeys.get(kid);
    },

    /** RFC 7517 JWK Set: the active key and every retired key whose tokens may still be live. */
    async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
      const now = Date.now();
      const rows = await db.selectFrom('oauth_signing_keys').select(['public_jwk', 'remove_after', 'created_at']).orderBy('created_at', 'desc').execute();
      return { keys: rows.filter((r) => r.remove_after === null || r.remove_after > now).map((r) => JSON.parse(r.public_jwk)) };
    },

    /** Publishes a new signing key; the old one keeps verifying until every token it signed has expired. */
    async rotate(): Promise<{ kid: string; retired: string[] }> {
      const now = Date.now();
      const removeAfter = now + options.accessTokenTtlSeconds * 1000 + 60_000;
      const retiring = await db.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is', null).execute();
      const fresh = await createKey();
      if (retiring.length) {
        await db.updateTable('oauth_signing_keys').set({ retired_at: now, remove_after: removeAfter }).where('kid', 'in', retiring.map((r) => r.kid)).execute();
      }
      active = { signer: toSigner(fresh), loadedAt: now };
      await loadPublicKeys();
      return { kid: fresh.kid, retired: retiring.map((r) => r.kid) };
    },
  };
}

export type SigningKeys = ReturnType<typeof signingKeysService>;
