export type AccountsErrorCode =
  | 'invalid_email'
  | 'email_taken'
  | 'weak_password'
  | 'invalid_slug'
  | 'reserved_slug'
  | 'slug_taken'
  | 'invalid_role'
  | 'not_found'
  | 'last_owner'
  | 'invalid_external_id'
  | 'external_id_taken';

import { UserFacingError } from '../util/errors.ts';

export class AccountsError extends UserFacingError {
  readonly code: AccountsErrorCode;
  constructor(code: AccountsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** True when a database error is a unique-constraint violation (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(String(e?.message));
}
