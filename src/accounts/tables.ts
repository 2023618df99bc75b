export interface UsersTable {
  id: string;
  email: string;
  /** Lower-cased, trimmed: the unique key. */
  email_normalized: string;
  name: string;
  password_hash: string | null;
  is_admin: number;
  /** 1 when the email address is known to belong to the user (an operator created the account with it). */
  email_verified: number;
  created_at: number;
}

export interface WorkspacesTable {
  id: string;
  slug: string;
  name: string;
  created_at: number;
  /** The operator's own id for the workspace (migration 0040), unique when set. */
  external_id: string | null;
}

export type Role = 'owner' | 'admin' | 'member';

export interface MembershipsTable {
  workspace_id: string;
  user_id: string;
  role: Role;
  created_at: number;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value; the cookie itself is never stored. */
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

/** A workspace invitation: a single-use link, of which only the SHA-256 is kept. */
export interface InvitationsTable {
  id: string;
  workspace_id: string;
  email: string;
  email_normalized: string;
  role: Role;
  token_hash: string;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  /** When the link was handed to the mail server (null: shown to the inviter only). */
  mailed_at: number | null;
  accepted_at: number | null;
  accepted_by: string | null;
  revoked_at: number | null;
}

/** A password-reset link (SHA-256 only). `user_id` is null for a request about an unknown address (kept for equal work). */
export interface PasswordResetsTable {
  token_hash: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** A user's TOTP key, sealed (AES-256-GCM under the server secret); `enabled_at` null while enrolment is pending. */
export interface UserTotpTable {
  user_id: string;
  secret_sealed: string;
  enabled_at: number | null;
  /** The last time step accepted: a code of that step or an earlier one is refused (no code works twice). */
  last_step: number | null;
  created_at: number;
}

/** Two-factor recovery codes (SHA-256 only), each usable once. */
export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface AccountsTables {
  users: UsersTable;
  workspaces: WorkspacesTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  password_resets: PasswordResetsTable;
  user_totp: UserTotpTable;
  recovery_codes: RecoveryCodesTable;
}
