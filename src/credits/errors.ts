import { UserFacingError } from '../util/errors.ts';

export type CreditsErrorCode = 'invalid_amount' | 'insufficient_balance' | 'unknown_plan' | 'invalid_range' | 'invalid_plan' | 'invalid_price';

export class CreditsError extends UserFacingError {
  readonly code: CreditsErrorCode;
  constructor(code: CreditsErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

