import type { Context } from 'hono';
import { parseForm, readForm } from '../http/body.ts';
import { HttpError } from '../http/errors.ts';
import type { Services } from '../services.ts';
import { OAuthError } from './errors.ts';
import { issuerForSlug, type IssuerContext } from './issuers.ts';

/** A malformed form is the client's `invalid_request` at an OAuth endpoint (RFC 6749 §5.2). */
function asOAuthError(err: unknown): never {
  if (err instanceof HttpError && err.status === 400) throw new OAuthError('invalid_request', err.message);
  throw err;
}

/** An `application/x-www-form-urlencoded` body (RFC 6749 §3.2); anything else is `invalid_request`. */
export function readOAuthForm(c: Context): Promise<Record<string, string>> {
  return readForm(c).catch(asOAuthError);
}

/** `readOAuthForm` for a body already read (the token endpoint's node:http fast path). */
export function parseOAuthForm(contentType: string | undefined, text: string): Record<string, string> {
  try {
    return parseForm(contentType, text);
  } catch (err) {
    return asOAuthError(err);
  }
}

/** The issuer an endpoint path belongs to (issuers.ts `issuerForSlug`); undefined means 404. */
export function issuerForPath(services: Services, slug: string | undefined): Promise<IssuerContext | undefined> {
  return issuerForSlug(services.config, services.accounts.workspaces, slug);
}

export const notFoundError = (c: Context) => new HttpError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`);
