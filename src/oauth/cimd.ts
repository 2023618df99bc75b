// Client ID Metadata Documents: a client whose `client_id` is an https URL publishes its metadata there. Tollgate
// fetches it under the SSRF guard, validates it, caches it (honouring Cache-Control within bounds) and serves the
// cached copy stale when a refetch fails, so a client's brief outage does not lock its users out.
import { isObject } from '../util/json.ts';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { validateClientMetadata } from './client-metadata.ts';
import type { OAuthClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import { fetchJsonDocument, SafeFetchError } from './safe-fetch.ts';
import type { OAuthTables } from './tables.ts';

const MIN_TTL_S = 60;
const MAX_TTL_S = 86_400;
const DEFAULT_TTL_S = 3_600;
/** How long past its freshness a cached document may still be served when refetching fails. */
const MAX_STALE_MS = 7 * 86_400_000;

type CimdConfig = Pick<Config, 'cimdAllowHttp' | 'cimdAllowPrivateAddresses' | 'cimdTimeoutMs' | 'cimdMaxBytes'>;

/** True when a client_id is a URL Tollgate should treat as a client ID metadata document. */
export function looksLikeCimdUrl(clientId: string, allowHttp: boolean): boolean {
  return clientId.startsWith('https://') || (allowHttp && clientId.startsWith('http://'));
}

/** CIMD §3: https, a path, no fragment, no credentials, no dot segments. Returns a reason when unusable. */
export function checkCimdUrl(clientId: string, allowHttp: boolean): string | undefined {
  if (clientId.length > 2048) return 'the client_id URL is too long';
  let u: URL;
  try {
    u = new URL(clientId);
  } catch {
    return 'the client_id is not a valid URL';
  }
  if (u.protocol !== 'https:' && !(allowHttp && u.protocol === 'http:')) return 'a client_id URL must use https';
  if (u.hash || clientId.includes('#')) return 'a client_id URL must not have a fragment';
  if (u.username || u.password) return 'a client_id URL must not contain credentials';
  if (u.pathname === '/' || u.pathname === '') return 'a client_id URL must have a path';
  if (/\/\.\.?(\/|$)/.test(clientId.split('?')[0].slice(u.origin.length))) return 'a client_id URL must not contain dot segments';
  return undefined;
}

/** Turns a fetched document into a client, or explains why it cannot be one. */
export function clientFromDocument(url: string, doc: unknown, fetchedAt: number): OAuthClient {
  if (!isObject(doc)) throw new OAuthError('invalid_client_metadata', 'The client metadata document is not a JSON object');
  const body = doc;
  // CIMD §4.1: the document's client_id must equal the URL it was fetched from, byte for byte.
  if (body.client_id !== url) throw new OAuthError('invalid_client_metadata', 'The client metadata document\'s client_id differs from its URL');
  if ('client_secret' in body || 'client_secret_expires_at' in body) throw new OAuthError('invalid_client_metadata', 'A client metadata document must not contain a client secret');
  // Public clients only. A document that prefers private_key_jwt but also lists `none` (ChatGPT's does) is accepted
  // as a public client: it then authenticates with PKCE alone, as it would against any server without private_key_jwt.
  const listed = [body.token_endpoint_auth_method, ...(Array.isArray(body.token_endpoint_auth_methods_supported) ? body.token_endpoint_auth_methods_supported : []), ...(Array.isArray(body.token_endpoint_auth_methods) ? body.token_endpoint_auth_methods : [])];
  if (body.token_endpoint_auth_method !== undefined && !listed.includes('none')) {
    throw new OAuthError('invalid_client_metadata', `The client metadata document asks for ${String(body.token_endpoint_auth_method).slice(0, 40)} authentication; Tollgate accepts metadata-document clients that use "none" (PKCE)`);
  }
  const { metadata } = validateClientMetadata(body, { authMethod: 'none' });
  return {
    clientId: url,
    kind: 'cimd',
    name: metadata.clientName,
    redirectUris: metadata.redirectUris,
    tokenEndpointAuthMethod: 'none',
    applicationType: metadata.applicationType,
    grantTypes: metadata.grantTypes,
    scope: metadata.scope,
    extra: metadata.extra,
    createdAt: fetchedAt,
    firstGrantAt: null,
    confidential: false,
  };
}

/** Freshness from Cache-Control, clamped: at least a minute (even for no-store), at most a day. */
export function freshnessSeconds(cacheControl: string | undefined): number {
  if (!cacheControl) return DEFAULT_TTL_S;
  const cc = cacheControl.toLowerCase();
  if (/\b(no-store|no-cache)\b/.test(cc)) return MIN_TTL_S;
  const m = /\b(?:s-maxage|max-age)\s*=\s*"?(\d+)/.exec(cc);
  const seconds = m ? Number(m[1]) : DEFAULT_TTL_S;
  return Math.min(MAX_TTL_S, Math.max(MIN_TTL_S, seconds));
}

export function cimdService(store: Store, config: CimdConfig, logger?: Logger) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const inFlight = new Map<string, Promise<OAuthClient>>();

  async function fetchAndStore(url: string): Promise<OAuthClient> {
    const fetched = await fetchJsonDocument(url, {
      allowHttp: config.cimdAllowHttp,
      allowPrivateAddresses: config.cimdAllowPrivateAddresses,
      timeoutMs: config.cimdTimeoutMs,
      maxBytes: config.cimdMaxBytes,
    });
    const now = Date.now();
    const client = clientFromDocument(url, fetched.body, now);
    const row = { url, document: JSON.stringify(fetched.body), fetched_at: now, expires_at: now + freshnessSeconds(fetched.cacheControl) * 1000 };
    await db
      .insertInto('oauth_cimd_documents')
      .values(row)
      .onConflict((oc) => oc.column('url').doUpdateSet({ document: row.document, fetched_at: row.fetched_at, expires_at: row.expires_at }))
      .execute();
    return client;
  }

  return {
    /**
     * The client a metadata document describes. Throws OAuthError(invalid_client) when it cannot be fetched and
     * nothing usable is cached (why is logged, not told), or OAuthError(invalid_client_metadata) when the document
     * is unacceptable.
     */
    async resolve(url: string): Promise<OAuthClient> {
      const bad = checkCimdUrl(url, config.cimdAllowHttp);
      if (bad) throw new OAuthError('invalid_client', bad);
      const cached = await db.selectFrom('oauth_cimd_documents').selectAll().where('url', '=', url).executeTakeFirst();
      const now = Date.now();
      if (cached && cached.expires_at > now) return clientFromDocument(url, JSON.parse(cached.document), cached.fetched_at);
      let pending = inFlight.get(url);
      if (!pending) {
        pending = fetchAndStore(url).finally(() => inFlight.delete(url));
        inFlight.set(url, pending);
      }
      try {
        return await pending;
      } catch (err) {
        if (cached && cached.expires_at + MAX_STALE_MS > now) {
          logger?.warn({ clientId: url, reason: (err as Error).message }, 'client metadata document refetch failed; serving the cached copy');
          return clientFromDocument(url, JSON.parse(cached.document), cached.fetched_at);
        }
        if (err instanceof SafeFetchError) {
          // The reason (host not found, non-public address, refused, …) stays in the server log: told to the client it
          // would make Tollgate an oracle for which names resolve and where they point (CIMD Security Considerations: SSRF).
          logger?.warn({ clientId: url.slice(0, 2048), reason: err.message }, 'client metadata document could not be fetched');
          throw new OAuthError('invalid_client', `The client metadata document at ${url.slice(0, 200)} could not be fetched`);
        }
        throw err;
      }
    },

    async deleteStale(): Promise<void> {
      await db.deleteFrom('oauth_cimd_documents').where('expires_at', '<', Date.now() - MAX_STALE_MS).execute();
    },
  };
}

export type CimdService = ReturnType<typeof cimdService>;
