export type ApiKeyAccess = 'read' | 'write';

export interface ApiKeysTable {
  /** Public part of the key (`tgk_<id>_<secret>`), shown in lists. */
  id: string;
  name: string;
  /** SHA-256 (hex) of the whole key; the key itself is never stored. */
  secret_hash: string;
  access: ApiKeyAccess;
  /** null: every workspace (and the deployment-wide operations). */
  workspace_id: string | null;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  idempotency_key: string;
  /** SHA-256 of the operation, its path parameters and its body: the same key with another request is refused. */
  fingerprint: string;
  status: number;
  /** The answer's JSON body, replayed for a retry. */
  response: string;
  created_at: number;
}

export interface ApiTables {
  api_keys: ApiKeysTable;
  api_idempotency_keys: IdempotencyKeysTable;
}
