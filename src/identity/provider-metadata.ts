// A provider's OpenID Connect Discovery 1.0 document and its JWKS, fetched through the SSRF guard and cached in
// process (bounded; safe to lose). An unknown `kid` refetches the JWKS once, so rotated provider keys are picked up.
import type { KeyObject } from 'node:crypto';
import { fetchJsonDocument, publicKeyFromJwk, SafeFetchError, type SafeFetchOptions, type SafeFetchRequest } from '../oauth/index.ts';
import { isObject } from '../util/json.ts';

export class ProviderError extends Error {}

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  code_challenge_methods_supported?: string[];
}

export interface ProviderFetchOptions extends SafeFetchOptions {
  /** How long a discovery document or JWKS is reused before it is fetched again. */
  cacheSeconds: number;
}

interface CachedKeys {
  keys: { kid?: string; alg?: string; key: KeyObject }[];
  fetchedAt: number;
}

const MAX_CACHED = 64;
const USER_AGENT = 'Tollgate (OpenID Connect relying party)';

/** Trims a URL to its issuer form: RFC 8414 §3 / Discovery §4: the well-known path is appended to the issuer. */
export const discoveryUrl = (issuer: string): string => `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;

function isHttpUrl(v: unknown, allowHttp: boolean): v is string {
  if (typeof v !== 'string') return false;
  const u = URL.parse(v);
  return !!u && (u.protocol === 'https:' || (allowHttp && u.protocol === 'http:'));
}

export function providerMetadataService(options: ProviderFetchOptions) {
  const discovery = new Map<string, { metadata: ProviderMetadata; fetchedAt: number }>();
  const jwks = new Map<string, CachedKeys>();
  const fresh = (fetchedAt: number) => Date.now() - fetchedAt < options.cacheSeconds * 1000;
  const remember = <T>(map: Map<string, T>, key: string, value: T) => {
    if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  async function fetchJson(url: string, request?: SafeFetchRequest) {
    try {
      return await fetchJsonDocument(url, options, { method: 'GET', userAgent: USER_AGENT, ...request });
    } catch (err) {
      if (err instanceof SafeFetchError) throw new ProviderError(`${new URL(url).host}: ${err.message}`);
      throw err;
    }
  }

  async function metadata(issuer: string): Promise<ProviderMetadata> {
    const cached = discovery.get(issuer);
    if (cached && fresh(cached.fetchedAt)) return cached.metadata;
    const { body, status } = await fetchJson(discoveryUrl(issuer));
    if (status !== 200 || !isObject(body)) throw new ProviderError('the discovery document is not a JSON object');
    // Discovery §4.3: the issuer in the document must be identical to the one the document was requested for.
    if (body.issuer !== issuer) throw new ProviderError(`the discovery document names the issuer ${String(body.issuer).slice(0, 200)}, not ${issuer}`);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (!isHttpUrl(body[field], options.allowHttp)) throw new ProviderError(`the discovery document has no usable ${field}`);
    }
    if (body.userinfo_endpoint !== undefined && !isHttpUrl(body.userinfo_endpoint, options.allowHttp)) throw new ProviderError('the discovery document has an unusable userinfo_endpoint');
    const methods = body.code_challenge_methods_supported;
    // RFC 7636 / RFC 9700 §2.1.1: PKCE S256 is always sent; a provider that says it lacks S256 cannot be used.
    if (Array.isArray(methods) && !methods.includes('S256')) throw new ProviderError('the provider does not support PKCE S256');
    const md = body as unknown as ProviderMetadata;
    remember(discovery, issuer, { metadata: md, fetchedAt: Date.now() });
    return md;
  }

  async function loadKeys(uri: string): Promise<CachedKeys> {
    const { body, status } = await fetchJson(uri);
    if (status !== 200 || !isObject(body) || !Array.isArray(body.keys)) throw new ProviderError('the JWKS is not a key set');
    const keys: CachedKeys['keys'] = [];
    for (const jwk of body.keys) {
      if (!isObject(jwk) || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.kty !== 'RSA' && jwk.kty !== 'EC')) continue;
      if ('d' in jwk) continue; // never a private key
      try {
        keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key: publicKeyFromJwk(jwk) });
      } catch {
        // A key Node cannot read is skipped; the others still work.
      }
    }
    const entry = { keys, fetchedAt: Date.now() };
    remember(jwks, uri, entry);
    return entry;
  }

  const matching = (set: CachedKeys, kid: string | undefined, alg: string) =>
    set.keys.filter((k) => (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg)).map((k) => k.key);

  return {
    metadata,
    /**
     * The keys that may have signed a token with this `kid` and `alg`. A kid the cached set lacks triggers one
     * refetch (the provider rotated its keys), not more: a forged kid cannot make Tollgate hammer the provider.
     */
    async keysFor(uri: string, kid: string | undefined, alg: string): Promise<KeyObject[]> {
      let set = jwks.get(uri);
      let refreshed = false;
      if (!set || !fresh(set.fetchedAt)) {
        set = await loadKeys(uri);
        refreshed = true;
      }
      let found = matching(set, kid, alg);
      if (found.length === 0 && !refreshed) found = matching(await loadKeys(uri), kid, alg);
      return found;
    },
    /** POST a form to the provider (the token endpoint); returns its JSON answer and status. */
    async postForm(url: string, form: URLSearchParams, headers: Record<string, string> = {}) {
      return fetchJson(url, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    },
    async getWithBearer(url: string, accessToken: string) {
      return fetchJson(url, { method: 'GET', headers: { authorization: `Bearer ${accessToken}` } });
    },
    /** Forgets cached documents (tests; an operator's `sso add` check). */
    clear(): void {
      discovery.clear();
      jwks.clear();
    },
  };
}

export type ProviderMetadataService = ReturnType<typeof providerMetadataService>;
