// Bearer-token checks for the MCP endpoints and the RFC 6750 challenges that go with them.
//
// Verifying an ES256 signature costs more than the rest of a request, so a verified token is remembered (bounded,
// until it expires) and later requests with the same token only re-check what can change: expiry, and whether its
// grant still stands (src/oauth/grants.ts: read every time on SQLite; on PostgreSQL cached per process and dropped
// on the revocation's NOTIFY, see grant-cache.ts).
import type { OAuth, VerifiedAccessToken } from '../oauth/index.ts';

export type BearerResult =
  | { ok: true; token: VerifiedAccessToken }
  /** No credentials, or credentials of another scheme (RFC 6750 §3.1: then no error code). */
  | { ok: false; anonymous: true }
  | { ok: false; anonymous: false; description: string };

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The token from an `Authorization: Bearer …` header; null for none (or another scheme); '' for a malformed one. */
export function bearerTokenFrom(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const value = authorization.trim();
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  // RFC 9110 §11.1: the auth scheme is case-insensitive.
  if (scheme.toLowerCase() !== 'bearer') return null;
  const token = space === -1 ? '' : value.slice(space + 1).trim();
  return token.length > 0 && token.length <= 8192 && B64TOKEN.test(token) ? token : '';
}

export interface BearerVerifierOptions {
  /** Verified tokens remembered at once. */
  cacheSize?: number;
}

/**
 * The cache's key for a token: its last 48 characters (in a JWT, part of the signature), so that a lookup hashes 48
 * characters instead of the whole ~600-character token. An entry counts only when its whole token is the same.
 */
const cacheKey = (raw: string): string => (raw.length > 48 ? raw.slice(-48) : raw);

export function bearerVerifier(oauth: Pick<OAuth, 'accessTokens' | 'grants'>, options: BearerVerifierOptions = {}) {
  const max = options.cacheSize ?? 20_000;
  // cacheKey(token) → the token and what verifying it for `resource` established.
  const verified = new Map<string, { raw: string; resource: string; token: VerifiedAccessToken }>();
  const lookup = (raw: string) => {
    const entry = verified.get(cacheKey(raw));
    return entry !== undefined && entry.raw === raw ? entry : undefined;
  };

  function remember(raw: string, resource: string, token: VerifiedAccessToken): void {
    const key = cacheKey(raw);
    if (verified.size >= max && !verified.has(key)) verified.delete(verified.keys().next().value as string);
    verified.set(key, { raw, resource, token });
  }

  return {
    /** Checks the Authorization header for the endpoint whose canonical resource URL is `resource`. */
    async verify(authorization: string | undefined, resource: string): Promise<BearerResult> {
      // The common case first: `Bearer <a token verified before>` (its syntax was checked when it was verified).
      const cached = authorization !== undefined && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
      let known = cached !== undefined ? lookup(cached) : undefined;
      const raw = known ? cached! : bearerTokenFrom(authorization);
      if (raw === null) return { ok: false, anonymous: true };
      if (raw === '') return { ok: false, anonymous: false, description: 'malformed bearer token' };
      known ??= lookup(raw);
      if (known && known.resource === resource) {
        const token = known.token;
        if (token.expiresAt <= Date.now()) {
          verified.delete(cacheKey(raw));
          return { ok: false, anonymous: false, description: 'expired' };
        }
        if (!(await oauth.grants.isGrantActive(token.grantId, token.refreshGeneration))) {
          verified.delete(cacheKey(raw));
          return { ok: false, anonymous: false, description: 'grant revoked' };
        }
        oauth.grants.touchGrant(token.grantId);
        return { ok: true, token };
      }
      const result = await oauth.accessTokens.verifyAccessToken(raw, resource);
      if (!result.ok) return { ok: false, anonymous: false, description: result.description };
      remember(raw, resource, result.token);
      return { ok: true, token: result.token };
    },
    /** For tests and diagnostics. */
    get cachedTokens(): number {
      return verified.size;
    },
  };
}

export type BearerVerifier = ReturnType<typeof bearerVerifier>;

// RFC 6750 §3: error_description is limited to printable ASCII without `"` and `\`.
const quotable = (s: string): string => s.replace(/[^\x20-\x7e]|["\\]/g, ' ').slice(0, 200);

/** RFC 6750 §3 + RFC 9728 §5.1: where to find the protected-resource metadata, and what went wrong (if anything). */
export function bearerChallenge(metadataUrl: string, error?: { code: 'invalid_token' | 'invalid_request' | 'insufficient_scope'; description?: string; scope?: string }): string {
  let v = `Bearer resource_metadata="${metadataUrl}"`;
  if (!error) return v;
  v += `, error="${error.code}"`;
  if (error.scope) v += `, scope="${quotable(error.scope)}"`;
  if (error.description) v += `, error_description="${quotable(error.description)}"`;
  return v;
}
