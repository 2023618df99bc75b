import type { Generated } from 'kysely';

// The OAuth module's tables. Tokens, codes and secrets are stored only as SHA-256 hashes.
export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The public JWK, JSON. */
  public_jwk: string;
  /** The private JWK sealed with the secret-derived key (util/crypto-box). */
  private_sealed: string;
  created_at: number;
  /** Null while the key signs; once rotated out, when it leaves JWKS (after its last token has expired). */
  retired_at: number | null;
  remove_after: number | null;
}

export interface GrantsTable {
  id: string;
  client_id: string;
  user_id: string;
  workspace_id: string;
  /** The canonical resource (the `aud` of its access tokens). */
  resource: string;
  /** Space-separated granted scopes. */
  scope: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface ClientEventsTable {
  id: number;
  client_id: string;
  workspace_id: string | null;
  kind: string;
  request_id: string | null;
  detail: string;
  created_at: number;
}

export interface OAuthTables {
  oauth_signing_keys: SigningKeysTable;
  oauth_grants: GrantsTable;
  oauth_client_events: Omit<ClientEventsTable, 'id'> & { id: Generated<number> };
}
