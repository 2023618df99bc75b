import { UserFacingError } from '../util/errors.ts';

export type IdentityErrorCode = 'invalid_name' | 'invalid_issuer' | 'invalid_input' | 'name_taken' | 'not_found';

export class IdentityError extends UserFacingError {
  readonly code: IdentityErrorCode;
  constructor(code: IdentityErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
