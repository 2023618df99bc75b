// Trusted enterprise identity providers for enterprise-managed authorization (ID-JAG): who may assert a user to
// Tollgate's token endpoint, with which keys, for which clients; and which account each (issuer, subject) maps to.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import { newId } from '../util/ids.ts';
import { OAuthError } from './errors.ts';
import { parseJwks, type PublicJwk } from './jwks.ts';
import { fetchJsonDocument, SafeFetchError } from './safe-fetch.ts';
import type { OAuthTables, TrustedIdpsTable } from './tables.ts';

export interface TrustedIdp {
  id: string;
  name: string;
  issuer: string;
  jwksUri: string | null;
  jwks: { keys: PublicJwk[] } | null;
  allowedClientIds: string[];
  createdAt: number;
}

export interface TrustedIdpInput {
  name: string;
  issuer: string;
  jwksUri?: string;
  jwks?: unknown;
  allowedClientIds: string[];
}

export interface JwksFetchOptions {
  /** Allow `http` and loopback/private addresses for JWKS URLs (tests and intranets). */
  allowPrivate: boolean;
  timeoutMs: number;
}

/** A fetched JWKS is reused this long; a JWS naming an unknown `kid` refetches it at most this often. */
const JWKS_CACHE_MS = 300_000;
const JWKS_REFETCH_MS = 30_000;
const JWKS_MAX_BYTES = 65_536;

const parseJson = <T,>(text: string | null, fallback: T): T => {
  try {
    return text === null ? fallback : (JSON.parse(text) as T);
  } catch {
    return fallback;
  }
};

const toIdp = (r: TrustedIdpsTable): TrustedIdp => ({
  id: r.id,
  name: r.name,
  issuer: r.issuer,
  jwksUri: r.jwks_uri,
  jwks: parseJson<{ keys: PublicJwk[] } | null>(r.jwks, null),
  allowedClientIds: parseJson<string[]>(r.allowed_client_ids, []),
  createdAt: r.created_at,
});

function validIssuer(issuer: string): boolean {
  try {
    const u = new URL(issuer);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !u.hash && !u.search && !u.username && issuer.length <= 2048;
  } catch {
    return false;
  }
}

export function trustedIdpsService(store: Store, fetchOptions: JwksFetchOptions) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  // Bounded and safe to lose: keyed by JWKS URL.
  const jwksCache = new Map<string, { jwks: { keys: PublicJwk[] }; fetchedAt: number }>();

  async function fetchJwks(url: string): Promise<{ keys: PublicJwk[] }> {
    const doc = await fetchJsonDocument(url, { allowHttp: fetchOptions.allowPrivate, allowPrivateAddresses: fetchOptions.allowPrivate, timeoutMs: fetchOptions.timeoutMs, maxBytes: JWKS_MAX_BYTES });
    if (doc.status !== 200) throw new SafeFetchError(`the JWKS URL answered ${doc.status}`);
    return parseJwks(doc.body);
  }

  return {
    /** Adds a provider; its inline JWK Set is validated, and a JWKS URL must parse (it is fetched on first use). */
    /** Adds a provider; with `audit`, its `idp.added` record (never its keys) commits with it. */
    async addIdp(input: TrustedIdpInput, audit?: AuditContext): Promise<TrustedIdp> {
      const name = input.name.trim();
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new OAuthError('invalid_request', 'The name must be 1–63 lower-case letters, digits and dashes');
      if (!validIssuer(input.issuer)) throw new OAuthError('invalid_request', 'The issuer must be an absolute http(s) URL without query or fragment');
      if ((input.jwksUri === undefined) === (input.jwks === undefined)) throw new OAuthError('invalid_request', 'Give either a JWKS URL or an inline JWK Set');
      if (input.jwksUri !== undefined && !validIssuer(input.jwksUri)) throw new OAuthError('invalid_request', 'The JWKS URL must be an absolute http(s) URL');
      let jwks: { keys: PublicJwk[] } | null = null;
      if (input.jwks !== undefined) {
        try {
          jwks = parseJwks(input.jwks);
        } catch (err) {
          throw new OAuthError('invalid_request', `JWK Set: ${(err as Error).message}`);
        }
      }
      const allowed = [...new Set(input.allowedClientIds.map((c) => c.trim()).filter(Boolean))];
      if (!allowed.length) throw new OAuthError('invalid_request', 'Name at least one client that may present this provider\'s assertions');
      const row: TrustedIdpsTable = { id: newId(), name, issuer: input.issuer, jwks_uri: input.jwksUri ?? null, jwks: jwks && JSON.stringify(jwks), allowed_client_ids: JSON.stringify(allowed), created_at: Date.now() };
      return db.transaction().execute(async (trx) => {
        const clash = await trx.selectFrom('oauth_trusted_idps').select('name').where((eb) => eb.or([eb('name', '=', name), eb('issuer', '=', input.issuer)])).executeTakeFirst();
        if (clash) throw new OAuthError('invalid_request', `A trusted identity provider with this name or issuer exists already (${clash.name})`);
        await trx.insertInto('oauth_trusted_idps').values(row).execute();
        if (audit) await recordAudit(trx, { ...audit, action: 'idp.added', target: { type: 'trusted_idp', id: name }, after: { issuer: row.issuer, jwks_uri: row.jwks_uri, allowed_client_ids: allowed } });
        return toIdp(row);
      });
    },

    async listIdps(): Promise<TrustedIdp[]> {
      return (await db.selectFrom('oauth_trusted_idps').selectAll().orderBy('name').execute()).map(toIdp);
    },

    /** The provider whose assertions carry this `iss`, compared exactly. */
    async findByIssuer(issuer: string): Promise<TrustedIdp | undefined> {
      if (!issuer || issuer.length > 2048 || issuer.includes('\u0000')) return undefined;
      const r = await db.selectFrom('oauth_trusted_idps').selectAll().where('issuer', '=', issuer).executeTakeFirst();
      return r && toIdp(r);
    },

    /** Removes a provider and the account links of its subjects; true when it existed. */
    async removeIdp(name: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx.selectFrom('oauth_trusted_idps').select('issuer').where('name', '=', name).executeTakeFirst();
        if (!r) return false;
        await trx.deleteFrom('oauth_idp_identities').where('issuer', '=', r.issuer).execute();
        await trx.deleteFrom('oauth_trusted_idps').where('name', '=', name).execute();
        if (audit) await recordAudit(trx, { ...audit, action: 'idp.removed', target: { type: 'trusted_idp', id: name }, before: { issuer: r.issuer } });
        return true;
      });
    },

    /**
     * The provider's signing keys: inline, or fetched from its JWKS URL under the SSRF guard and cached. With
     * `kid` unknown to the cached set, the set is refetched (a key rotation), at most every JWKS_REFETCH_MS.
     */
    async signingKeys(idp: TrustedIdp, kid: unknown): Promise<{ keys: PublicJwk[] }> {
      if (idp.jwks) return idp.jwks;
      const url = idp.jwksUri!;
      const cached = jwksCache.get(url);
      const age = cached ? Date.now() - cached.fetchedAt : Infinity;
      const knowsKid = cached && (kid === undefined || cached.jwks.keys.some((k) => k.kid === kid));
      if (cached && age < JWKS_CACHE_MS && (knowsKid || age < JWKS_REFETCH_MS)) return cached.jwks;
      try {
        const jwks = await fetchJwks(url);
        if (jwksCache.size > 1000) jwksCache.clear();
        jwksCache.set(url, { jwks, fetchedAt: Date.now() });
        return jwks;
      } catch (err) {
        // Served stale when a refetch fails: the provider's keys rarely change and an outage there is not ours.
        if (cached) return cached.jwks;
        throw new OAuthError('invalid_grant', `The identity provider's keys could not be fetched: ${(err as Error).message}`.slice(0, 300));
      }
    },

    /** The account an (issuer, subject) was mapped to before, if any. */
    async findIdentity(issuer: string, subject: string): Promise<string | undefined> {
      const r = await db.selectFrom('oauth_idp_identities').select('user_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
      return r?.user_id;
    },

    /** Remembers that this (issuer, subject) is this account (a concurrent first sign-in keeps the first link). */
    async linkIdentity(issuer: string, subject: string, userId: string): Promise<void> {
      await db.insertInto('oauth_idp_identities').values({ issuer, subject, user_id: userId, created_at: Date.now() }).onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing()).execute();
    },
  };
}

export type TrustedIdps = ReturnType<typeof trustedIdpsService>;
