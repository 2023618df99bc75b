// Signing keys: ES256 for access tokens (and id tokens of clients that ask for it), RS256 for OpenID Connect id
// tokens (its default algorithm). Sealed at rest, rotated without breaking live tokens.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { publicKeyFromJwk, type JwtAlg } from './jwt.ts';
import type { OAuthTables, SigningKeysTable } from './tables.ts';

export interface Signer {
  kid: string;
  privateKey: KeyObject;
}

const ALGS: readonly JwtAlg[] = ['ES256', 'RS256'];
const RELOAD_ACTIVE_MS = 30_000;
const RELOAD_ON_MISS_MS = 1_000;

export function signingKeysService(store: Store, box: SecretBox, options: { accessTokenTtlSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const active = new Map<JwtAlg, { signer: Signer; loadedAt: number }>();
  const publicKeys = new Map<string, KeyObject>();
  let lastMissReload = 0;

  async function createKey(alg: JwtAlg): Promise<SigningKeysTable> {
    const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomBytes(12).toString('base64url');
    const row: SigningKeysTable = {
      kid,
      alg,
      public_jwk: JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }),
      private_sealed: box.seal(JSON.stringify(privateKey.export({ format: 'jwk' }))),
      created_at: Date.now(),
      retired_at: null,
      remove_after: null,
    };
    await db.insertInto('oauth_signing_keys').values(row).execute();
    return row;
  }

  async function newestActive(alg: JwtAlg): Promise<SigningKeysTable | undefined> {
    return db.selectFrom('oauth_signing_keys').selectAll().where('alg', '=', alg).where('retired_at', 'is', null).orderBy('created_at', 'desc').orderBy('kid').limit(1).executeTakeFirst();
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
    /** Makes sure a signing key of each algorithm exists and can be decrypted with this process's secret (called at start). */
    async ensureKey(): Promise<void> {
      for (const alg of ALGS) {
        const row = (await newestActive(alg)) ?? (await createKey(alg));
        active.set(alg, { signer: toSigner(row), loadedAt: Date.now() });
      }
      await loadPublicKeys();
    },

    /** The key new tokens are signed with; re-read periodically so a rotation in another process is picked up. */
    async activeSigner(alg: JwtAlg = 'ES256'): Promise<Signer> {
      const current = active.get(alg);
      if (!current || Date.now() - current.loadedAt > RELOAD_ACTIVE_MS) {
        const row = (await newestActive(alg)) ?? (await createKey(alg));
        active.set(alg, current?.signer.kid === row.kid ? { signer: current.signer, loadedAt: Date.now() } : { signer: toSigner(row), loadedAt: Date.now() });
      }
      return active.get(alg)!.signer;
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

    /** RFC 7517 JWK Set: the active keys and every retired key whose tokens may still be live. */
    async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
      const now = Date.now();
      const rows = await db.selectFrom('oauth_signing_keys').select(['public_jwk', 'remove_after', 'created_at']).orderBy('created_at', 'desc').execute();
      return { keys: rows.filter((r) => r.remove_after === null || r.remove_after > now).map((r) => JSON.parse(r.public_jwk)) };
    },

    /**
     * Publishes new signing keys (one per algorithm); the old ones keep verifying until every token they signed has
     * expired. `kid` is the new access-token (ES256) key.
     */
    async rotate(): Promise<{ kid: string; retired: string[] }> {
      const now = Date.now();
      const removeAfter = now + options.accessTokenTtlSeconds * 1000 + 60_000;
      const retiring = await db.selectFrom('oauth_signing_keys').select('kid').where('retired_at', 'is', null).execute();
      const fresh = new Map<JwtAlg, SigningKeysTable>();
      for (const alg of ALGS) fresh.set(alg, await createKey(alg));
      if (retiring.length) {
        await db.updateTable('oauth_signing_keys').set({ retired_at: now, remove_after: removeAfter }).where('kid', 'in', retiring.map((r) => r.kid)).execute();
      }
      for (const [alg, row] of fresh) active.set(alg, { signer: toSigner(row), loadedAt: now });
      await loadPublicKeys();
      return { kid: fresh.get('ES256')!.kid, retired: retiring.map((r) => r.kid) };
    },
  };
}

export type SigningKeys = ReturnType<typeof signingKeysService>;
