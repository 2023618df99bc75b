// The identity module's tables: sign-in connections (OpenID Connect providers), the provider identities linked to
// accounts, sign-ins in flight, how each session was signed in, and the workspace rules (auto-join, required
// connection).

export interface IdentityConnectionsTable {
  id: string;
  /** Short name in URLs and on the CLI (`/login/sso/<name>`). */
  name: string;
  /** What the sign-in button says ("Sign in with <label>"). */
  label: string;
  issuer: string;
  client_id: string;
  /** The client secret sealed with TOLLGATE_SECRET (AES-256-GCM); never stored or shown in the clear. */
  client_secret_sealed: string;
  scopes: string;
  created_at: number;
}

export interface IdentityLinksTable {
  /** OpenID Connect Core §2: `iss` + `sub` is the only stable, unique key of a person at a provider. */
  issuer: string;
  subject: string;
  user_id: string;
  connection_id: string;
  /** The e-mail the provider gave at the last sign-in (display only; never used to find the account). */
  email: string;
  created_at: number;
  last_used_at: number;
}

export interface IdentityAuthRequestsTable {
  /** SHA-256 of `state`; the row is deleted when the callback uses it (single use). */
  state_hash: string;
  connection_id: string;
  nonce: string;
  code_verifier_sealed: string;
  next_path: string;
  /** Set when a signed-in person links this provider to their account. */
  link_user_id: string | null;
  expires_at: number;
}

export interface IdentitySessionsTable {
  /** SHA-256 of the session cookie (the accounts module's session id hash). */
  session_hash: string;
  connection_id: string;
  expires_at: number;
}

export type JoinRuleKind = 'domain' | 'claim';

export interface IdentityJoinRulesTable {
  id: string;
  workspace_id: string;
  /** Only sign-ins through this connection match; null: any connection. */
  connection_id: string | null;
  kind: JoinRuleKind;
  /** `claim` rules: the claim's name (`groups`, `org`, …). */
  claim: string | null;
  /** `domain`: the e-mail domain (lower case); `claim`: the value the claim must hold (or contain, for a list). */
  value: string;
  role: 'admin' | 'member';
  created_at: number;
}

export interface IdentityWorkspaceRequirementsTable {
  workspace_id: string;
  connection_id: string;
}

export interface IdentityTables {
  identity_connections: IdentityConnectionsTable;
  identity_links: IdentityLinksTable;
  identity_auth_requests: IdentityAuthRequestsTable;
  identity_sessions: IdentitySessionsTable;
  identity_join_rules: IdentityJoinRulesTable;
  identity_workspace_requirements: IdentityWorkspaceRequirementsTable;
}
