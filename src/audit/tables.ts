import type { Generated } from 'kysely';

export interface AuditLogTable {
  id: number;
  at: number;
  /** `user` (signed in on the web), `cli` (an operator at the command line), `api_key`, `system`, `anonymous`. */
  actor_type: string;
  actor_id: string | null;
  /** What a person reads: an email, a key name, the OS user at the CLI. */
  actor_label: string | null;
  action: string;
  target_type: string;
  target_id: string;
  workspace_id: string | null;
  /** JSON, secrets redacted. */
  before_json: string | null;
  after_json: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export interface AuditTables {
  audit_log: Omit<AuditLogTable, 'id'> & { id: Generated<number> };
}
