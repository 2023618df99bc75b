// The OAuth module's public face: other modules call these, never the tables.
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/crypto-box.ts';
import { accessTokensService } from './access-tokens.ts';
import { grantsService } from './grants.ts';
import { signingKeysService } from './keys.ts';
import { clientEventsService } from './client-events.ts';

export type { Grant } from './grants.ts';
export type { VerifiedAccessToken, VerifyResult } from './access-tokens.ts';

export function oauthModule(store: Store, config: Config, secret: string) {
  const keys = signingKeysService(store, new SecretBox(secret, 'signing-keys'), config);
  const grants = grantsService(store);
  const accessTokens = accessTokensService(config, keys, grants);
  const clientEvents = clientEventsService(store);
  return { keys, grants, accessTokens, clientEvents };
}

export type OAuth = ReturnType<typeof oauthModule>;
