import type { Context } from 'hono';
import { parseForm, readForm } from '../http/body.ts';
import { HttpError } from '../http/errors.ts';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import type { Accounts } from '../accounts/index.ts';
import type { OAuth } from './index.ts';
import { OAuthError } from './errors.ts';
import { issuerForSlug, type IssuerContext } from './issuers.ts';

/** What the authorization server's HTTP endpoints need: its own services, its store, and the accounts it serves. */
export interface OAuthEndpointDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** For transactions over the OAuth module's own tables. */
  readonly store: Store;
  readonly oauth: OAuth;
  readonly accounts: Pick<Accounts, 'users' | 'workspaces'>;
}

/** A malformed form is the client's `invalid_request` at an OAuth endpoint (RFC 6749 §5.2). */
function asOAuthError(err: unknown): never {
  if (err instanceof HttpError && err.status === 400) throw new OAuthError('invalid_request', err.message);
  throw err;
}

/** An `application/x-www-form-urlencoded` body (RFC 6749 §3.2); anything else is `invalid_request`. */
export function readOAuthForm(c: Context): Promise<Record<string, string>> {
  return readForm(c).catch(asOAuthError);
}

/** `readOAuthForm` for a body already read (the token endpoint, on either HTTP adapter). */
export function parseOAuthForm(contentType: string | undefined, text: string): Record<string, string> {
  try {
    return parseForm(contentType, text);
  } catch (err) {
    return asOAuthError(err);
  }
}

/** The issuer an endpoint path belongs to (issuers.ts `issuerForSlug`); undefined means 404. */
export function issuerForPath(services: Pick<OAuthEndpointDeps, 'config' | 'accounts'>, slug: string | undefined): Promise<IssuerContext | undefined> {
  return issuerForSlug(services.config, services.accounts.workspaces, slug);
}

export const notFoundError = (c: Context) => new HttpError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`);
