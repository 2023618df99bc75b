import type { Generated } from 'kysely';

// The OAuth module's tables. Tokens, codes and secrets are stored only as SHA-256 hashes.
export interface SigningKeysTable {
  kid: string;
  /** `ES256` (access tokens, and id tokens for clients that ask for it) or `RS256` (OpenID Connect's default). */
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
  /**
   * 1 when the client sent no `resource`: its tokens are then valid at the workspace endpoint and at the shared
   * endpoint, since either may be where the client came from.
   */
  resource_implicit: Generated<number>;
  /**
   * The newest refresh-token generation its client has proven it received: by presenting that refresh token, or
   * an access token minted with it at a resource. A rotated token whose successor is older is still honoured.
   */
  confirmed_generation: Generated<number>;
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

export type ClientKind = 'dynamic' | 'static';

export interface ClientsTable {
  client_id: string;
  /** `dynamic`: self-registered (RFC 7591); `static`: created by an operator. */
  kind: ClientKind;
  client_name: string;
  /** JSON array of accepted redirect URIs. */
  redirect_uris: string;
  token_endpoint_auth_method: string;
  application_type: string;
  /** JSON array. */
  grant_types: string;
  /** Space-separated scopes the client registered (informational), or null. */
  scope: string | null;
  /** JSON object of the other registered metadata returned to the client (client_uri, logo_uri, …). */
  metadata: string;
  secret_hash: string | null;
  /** After a rotation, the previous secret keeps working until `previous_secret_expires_at`. */
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  created_at: number;
  /** Null until a grant is completed; self-registered clients that never get one are garbage-collected. */
  first_grant_at: number | null;
  /** SHA-256 of the RFC 7592 registration access token a self-registered client manages itself with, or null. */
  registration_token_hash: string | null;
}

export interface CodesTable {
  code_hash: string;
  client_id: string;
  /** The redirect URI the code is bound to, and whether the authorization request carried it (RFC 6749 §4.1.3). */
  redirect_uri: string;
  redirect_uri_sent: number;
  code_challenge: string;
  /** Canonical resource; for an implicit one, the workspace endpoint chosen at consent. */
  resource: string;
  resource_implicit: number;
  scope: string;
  user_id: string;
  workspace_id: string;
  /** The issuer that issued the code: only that issuer's token endpoint redeems it. */
  issuer: string;
  nonce: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** The grant its redemption created: revoked if the code is presented again. */
  grant_id: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  grant_id: string;
  created_at: number;
  expires_at: number;
  /** Set when the token is rotated (or its successor reissued); with a null successor, the token was superseded. */
  rotated_at: number | null;
  successor_hash: string | null;
  /** Its place in the grant's chain: 0 for the token issued with the code, its successor's is one more. */
  generation: number;
  /** How often its successor was replaced because the client never received it (see refresh-tokens.ts). */
  reissues: number;
}

export interface CimdDocumentsTable {
  url: string;
  /** The validated document, JSON. */
  document: string;
  fetched_at: number;
  /** Fresh until then; afterwards refetched, and served stale if the refetch fails. */
  expires_at: number;
}

export interface ThrottleTable {
  key: string;
  window_start: number;
  hits: number;
}

export interface UsedJtisTable {
  /** SHA-256 of what the `jti` is unique within (the client or the identity provider) and the `jti`. */
  key_hash: string;
  /** The JWT's `exp`: after it, the JWT is refused as expired anyway and the row may go. */
  expires_at: number;
}

export interface TrustedIdpsTable {
  id: string;
  name: string;
  /** The `iss` of its identity assertions, compared byte for byte. */
  issuer: string;
  /** Where its signing keys are published, or null when `jwks` holds them inline. */
  jwks_uri: string | null;
  /** An inline JWK Set, JSON, or null. */
  jwks: string | null;
  /** JSON array of the client ids whose assertions it may issue (RFC 7523 §3: the assertion names its client). */
  allowed_client_ids: string;
  created_at: number;
}

export interface IdpIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: number;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'used';

export interface DeviceCodesTable {
  device_code_hash: string;
  /** Eight letters without vowels or look-alikes (RFC 8628 §6.1), stored without the dash. */
  user_code: string;
  client_id: string;
  scope: string;
  /** The resource the device asked for, or null when the workspace is chosen on the /device page. */
  resource: string | null;
  /** 1 when the device sent no `resource` (its tokens then also work at the shared endpoint, as for codes). */
  resource_implicit: number;
  issuer: string;
  status: DeviceCodeStatus;
  /** The polling interval the device must keep (RFC 8628 §3.5: raised by 5 s at each slow_down). */
  interval_s: number;
  last_poll_at: number | null;
  /** Set by the approval: who approved, for which workspace and resource. */
  user_id: string | null;
  workspace_id: string | null;
  granted_resource: string | null;
  auth_time: number | null;
  created_at: number;
  expires_at: number;
}

export interface OAuthTables {
  oauth_signing_keys: SigningKeysTable;
  oauth_grants: GrantsTable;
  oauth_client_events: Omit<ClientEventsTable, 'id'> & { id: Generated<number> };
  oauth_clients: ClientsTable;
  oauth_codes: CodesTable;
  oauth_refresh_tokens: RefreshTokensTable;
  oauth_cimd_documents: CimdDocumentsTable;
  oauth_throttle: ThrottleTable;
  oauth_used_jtis: UsedJtisTable;
  oauth_trusted_idps: TrustedIdpsTable;
  oauth_idp_identities: IdpIdentitiesTable;
  oauth_device_codes: DeviceCodesTable;
}
