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

export interface AccountsTables {
  users: UsersTable;
  workspaces: WorkspacesTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
}
