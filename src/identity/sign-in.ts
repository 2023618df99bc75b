// Signing in through an OpenID Connect provider (Core §3.1, the authorization code flow) as a relying party:
//   start:  discovery → state, nonce, PKCE S256 verifier stored (hashed state, sealed verifier) → the provider's URL
//   finish: provider error? → state bound to this browser and used once → iss (RFC 9207) → code for tokens →
//           id_token validated → userinfo when the e-mail is missing → the account by (iss, sub) → auto-join.
// Every failure is a SignInRefusal with a message for the person; nothing here throws a provider's words at them raw.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { randomToken, safeEqual, sha256Hex } from '../util/ids.ts';
import { isObject } from '../util/json.ts';
import type { Logger } from '../util/logger.ts';
import { AccountsError, type Role, type User, type Workspace } from '../accounts/index.ts';
import type { Connection, ConnectionsService } from './connections.ts';
import { IdTokenError, readIdTokenHeader, validateIdToken, type IdTokenClaims } from './id-token.ts';
import type { LinksService } from './links.ts';
import type { AuditContext } from '../audit/index.ts';
import { ProviderError, type ProviderMetadataService } from './provider-metadata.ts';
import type { IdentityTables } from './tables.ts';
import type { WorkspaceRulesService } from './workspace-rules.ts';

export type RefusalKind =
  | 'denied'
  | 'provider_error'
  | 'provider_unreachable'
  | 'tampered'
  | 'replayed'
  | 'invalid_token'
  | 'unverified_email'
  | 'no_email'
  | 'account_exists'
  | 'already_linked'
  | 'unknown_connection';

export class SignInRefusal extends Error {
  readonly kind: RefusalKind;
  constructor(kind: RefusalKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** What the identity module needs of accounts. */
export interface IdentityAccounts {
  users: {
    getUser(id: string): Promise<User | undefined>;
    findUserByEmail(email: string): Promise<User | undefined>;
    createUser(input: { email: string; name?: string; emailVerified?: boolean }): Promise<User>;
  };
  workspaces: {
    getWorkspace(id: string): Promise<Workspace | undefined>;
    getRole(workspaceId: string, userId: string): Promise<Role | undefined>;
    addMember(slug: string, email: string, role: Role): Promise<void>;
  };
}

export interface SignInConfig {
  publicUrl: string;
  ssoSignInTtlSeconds: number;
  ssoClockSkewSeconds: number;
}

export interface SignInResult {
  user: User;
  connection: Connection;
  created: boolean;
  linked: boolean;
  joined: string[];
  next: string;
}

/** The redirect URI to register at the provider: one per connection (RFC 9700 §4.4.2: distinct redirect URIs per issuer defeat mix-up). */
export const callbackUrl = (publicUrl: string, connectionName: string): string => `${publicUrl}/login/sso/${connectionName}/callback`;

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');
const safeCode = (v: unknown): string => (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : 'error');

/** OpenID Connect Core §5.1: `email_verified` is a boolean; a few providers send the string "true". */
const isVerified = (v: unknown): boolean => v === true || v === 'true';

export function signInService(deps: {
  store: Store;
  config: SignInConfig;
  box: Pick<SecretBox, 'seal' | 'open'>;
  connections: ConnectionsService;
  providers: ProviderMetadataService;
  links: LinksService;
  rules: WorkspaceRulesService;
  accounts: IdentityAccounts;
  logger?: Logger;
}) {
  const db: Kysely<IdentityTables> = deps.store.typed<IdentityTables>();
  const { connections, providers, links, accounts } = deps;

  async function metadataOf(connection: Connection) {
    try {
      return await providers.metadata(connection.issuer);
    } catch (err) {
      if (err instanceof ProviderError) throw new SignInRefusal('provider_unreachable', `${connection.label} could not be reached (${err.message}). Try again later, or ask the person who runs this server.`);
      throw err;
    }
  }

  /** Takes the state's row out (single use); undefined when it was used, expired or never existed. */
  async function takeRequest(state: string) {
    const hash = sha256Hex(state);
    const row = await db.selectFrom('identity_auth_requests').selectAll().where('state_hash', '=', hash).executeTakeFirst();
    if (!row) return undefined;
    const del = await db.deleteFrom('identity_auth_requests').where('state_hash', '=', hash).executeTakeFirst();
    // Two callbacks at once: only the one whose delete took the row goes on.
    if (Number(del.numDeletedRows) !== 1 || row.expires_at <= Date.now()) return undefined;
    return row;
  }

  async function exchangeCode(connection: Connection, md: Awaited<ReturnType<typeof metadataOf>>, code: string, verifier: string) {
    const secret = await connections.clientSecret(connection.id);
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callbackUrl(deps.config.publicUrl, connection.name), code_verifier: verifier });
    const methods = (md as { token_endpoint_auth_methods_supported?: unknown }).token_endpoint_auth_methods_supported;
    const headers: Record<string, string> = {};
    if (Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
      form.set('client_id', connection.clientId);
      form.set('client_secret', secret);
    } else {
      // RFC 6749 §2.3.1: both parts form-urlencoded before the Basic encoding.
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(connection.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    }
    let answer;
    try {
      answer = await providers.postForm(md.token_endpoint, form, headers);
    } catch (err) {
      if (err instanceof ProviderError) throw new SignInRefusal('provider_unreachable', `${connection.label} did not answer the sign-in (${err.message}). Try again later.`);
      throw err;
    }
    const body = answer.body;
    if (answer.status !== 200 || !isObject(body)) {
      const error = isObject(body) ? safeCode(body.error) : 'error';
      throw new SignInRefusal('provider_error', `${connection.label} refused to complete the sign-in (${error}). Start again from the sign-in page.`);
    }
    if (typeof body.id_token !== 'string') throw new SignInRefusal('invalid_token', `${connection.label} sent no ID token. Ask the person who runs this server to check the connection's scopes.`);
    return { idToken: body.id_token, accessToken: typeof body.access_token === 'string' ? body.access_token : undefined };
  }

  async function validate(connection: Connection, md: Awaited<ReturnType<typeof metadataOf>>, idToken: string, nonce: string): Promise<IdTokenClaims> {
    try {
      const { decoded, alg, kid } = readIdTokenHeader(idToken);
      let keys;
      try {
        keys = await providers.keysFor(md.jwks_uri, kid, alg);
      } catch (err) {
        if (err instanceof ProviderError) throw new SignInRefusal('provider_unreachable', `${connection.label}'s signing keys could not be fetched (${err.message}). Try again later.`);
        throw err;
      }
      return validateIdToken(decoded, keys, { issuer: md.issuer, clientId: connection.clientId, nonce, skewSeconds: deps.config.ssoClockSkewSeconds });
    } catch (err) {
      if (err instanceof IdTokenError) {
        deps.logger?.warn({ event: 'sso_id_token_rejected', connection: connection.name, reason: err.reason }, 'id_token rejected');
        throw new SignInRefusal('invalid_token', `The sign-in answer from ${connection.label} could not be trusted: ${err.message}. Start again from the sign-in page.`);
      }
      throw err;
    }
  }

  /** Core §5.3: userinfo, when the id_token carries no e-mail; its `sub` must be the id_token's (§5.3.2). */
  async function withUserinfo(connection: Connection, md: Awaited<ReturnType<typeof metadataOf>>, claims: IdTokenClaims, accessToken: string | undefined): Promise<Record<string, unknown>> {
    if (typeof claims.email === 'string' || !md.userinfo_endpoint || !accessToken) return claims;
    let answer;
    try {
      answer = await providers.getWithBearer(md.userinfo_endpoint, accessToken);
    } catch (err) {
      if (err instanceof ProviderError) throw new SignInRefusal('provider_unreachable', `${connection.label} did not send your profile (${err.message}). Try again later.`);
      throw err;
    }
    if (answer.status !== 200 || !isObject(answer.body)) throw new SignInRefusal('provider_error', `${connection.label} did not send your profile. Try again later.`);
    if (answer.body.sub !== claims.sub) throw new SignInRefusal('invalid_token', `${connection.label} sent a profile of someone else. Start again from the sign-in page.`);
    // The id_token's claims win: they are signed; userinfo adds what they lack.
    return { ...answer.body, ...claims };
  }

  async function resolveAccount(connection: Connection, iss: string, sub: string, claims: Record<string, unknown>, linkUserId: string | null, request?: AuditContext) {
    /** The audit context of a link: the account it is linked to, from the callback's address. */
    const asUser = (u: { id: string; email: string }): AuditContext | undefined => request && { ...request, actor: { type: 'user', id: u.id, label: u.email } };
    const email = typeof claims.email === 'string' ? claims.email.trim() : undefined;
    const verified = !!email && isVerified(claims.email_verified);
    const name = typeof claims.name === 'string' ? claims.name : undefined;
    const existingId = await links.findUserId(iss, sub);

    if (linkUserId) {
      // Linking: the person proved the local account (signed in) and the provider vouches for the address.
      if (existingId && existingId !== linkUserId) throw new SignInRefusal('already_linked', `This ${connection.label} identity is already linked to another Tollgate account.`);
      const user = await accounts.users.getUser(linkUserId);
      if (!user) throw new SignInRefusal('tampered', 'Your session has ended. Sign in again and retry.');
      if (!existingId) {
        if (!verified) throw new SignInRefusal('unverified_email', `${connection.label} has not verified your e-mail address, so it cannot be linked to your account.`);
        if (!(await links.link({ issuer: iss, subject: sub, userId: user.id, connectionId: connection.id, email: email! }, asUser(user)))) {
          throw new SignInRefusal('already_linked', `This ${connection.label} identity is already linked to another Tollgate account.`);
        }
        return { user, created: false, linked: true, email, verified };
      }
      return { user, created: false, linked: false, email, verified };
    }

    if (existingId) {
      const user = await accounts.users.getUser(existingId);
      if (user) {
        await links.touch(iss, sub, email ?? '');
        return { user, created: false, linked: false, email, verified };
      }
    }
    if (!email) throw new SignInRefusal('no_email', `${connection.label} did not tell Tollgate your e-mail address. Ask the person who runs this server to add the "email" scope to the connection.`);
    if (!verified) throw new SignInRefusal('unverified_email', `${connection.label} has not verified your e-mail address ${email}. Verify it there, then sign in again.`);
    // Core §5.7: an e-mail is not a stable identifier; an existing account is never taken over by a matching address.
    if (await accounts.users.findUserByEmail(email)) {
      throw new SignInRefusal(
        'account_exists',
        `A Tollgate account with the address ${email} already exists. Sign in with its password, then link ${connection.label} from your account page (Account → Sign-in methods).`,
      );
    }
    let user: User;
    try {
      user = await accounts.users.createUser({ email, name, emailVerified: true });
    } catch (err) {
      if (err instanceof AccountsError && err.code === 'invalid_email') throw new SignInRefusal('no_email', `${connection.label} gave an e-mail address Tollgate cannot use. Ask the person who runs this server.`);
      // A concurrent first sign-in of the same person created it: take the link it made, or refuse like above.
      const winner = await links.findUserId(iss, sub);
      const found = winner && (await accounts.users.getUser(winner));
      if (found) return { user: found, created: false, linked: false, email, verified };
      if (err instanceof AccountsError && err.code === 'email_taken') {
        throw new SignInRefusal('account_exists', `A Tollgate account with the address ${email} already exists. Sign in with its password, then link ${connection.label} from your account page.`);
      }
      throw err;
    }
    if (!(await links.link({ issuer: iss, subject: sub, userId: user.id, connectionId: connection.id, email }, asUser(user)))) {
      const winner = await links.findUserId(iss, sub);
      const found = winner && (await accounts.users.getUser(winner));
      if (found) return { user: found, created: false, linked: false, email, verified };
    }
    return { user, created: true, linked: true, email, verified };
  }

  async function autoJoin(connection: Connection, user: User, verifiedEmail: string | undefined, claims: Record<string, unknown>): Promise<string[]> {
    const joined: string[] = [];
    for (const rule of await deps.rules.matchingRules({ connectionId: connection.id, verifiedEmail, claims })) {
      const ws = await accounts.workspaces.getWorkspace(rule.workspaceId);
      // Never changes an existing membership: auto-join only adds people.
      if (!ws || (await accounts.workspaces.getRole(ws.id, user.id))) continue;
      await accounts.workspaces.addMember(ws.slug, user.email, rule.role);
      joined.push(ws.slug);
    }
    return joined;
  }

  return {
    /** Where to send the browser, and the state to bind to it (a cookie). */
    async start(connectionName: string, options: { next: string; linkUserId?: string; freshSignIn?: boolean }): Promise<{ location: string; state: string; connection: Connection }> {
      const connection = await connections.getConnection(connectionName);
      if (!connection) throw new SignInRefusal('unknown_connection', 'There is no such sign-in method here.');
      const md = await metadataOf(connection);
      const state = randomToken();
      const nonce = randomToken();
      const verifier = randomToken(32);
      const now = Date.now();
      await db.deleteFrom('identity_auth_requests').where('expires_at', '<=', now).execute();
      await db
        .insertInto('identity_auth_requests')
        .values({
          state_hash: sha256Hex(state),
          connection_id: connection.id,
          nonce,
          code_verifier_sealed: deps.box.seal(verifier),
          next_path: options.next,
          link_user_id: options.linkUserId ?? null,
          expires_at: now + deps.config.ssoSignInTtlSeconds * 1000,
        })
        .execute();
      const url = new URL(md.authorization_endpoint);
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: connection.clientId,
        redirect_uri: callbackUrl(deps.config.publicUrl, connection.name),
        scope: connection.scopes,
        state,
        nonce,
        // RFC 7636 §4.2 / RFC 9700 §2.1.1: PKCE with S256, even for a confidential client.
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
      };
      // Core §3.1.2.1: prompt=login makes the provider authenticate the person again, as the app asked of Tollgate.
      if (options.freshSignIn) params.prompt = 'login';
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      return { location: url.toString(), state, connection };
    },

    /**
     * Completes the sign-in from the callback's query and the state cookie; throws SignInRefusal. `audit` (the
     * callback's address, user agent and request id) goes into the audit record of an identity it links.
     */
    async finish(connectionName: string, query: URLSearchParams, stateCookie: string | undefined, audit?: AuditContext): Promise<SignInResult> {
      const connection = await connections.getConnection(connectionName);
      if (!connection) throw new SignInRefusal('unknown_connection', 'There is no such sign-in method here.');
      const state = query.get('state') ?? '';
      // Core §3.1.2.7 / RFC 6749 §10.12: the state must be the one this browser was given (login CSRF).
      const bound = !!state && state.length <= 128 && !!stateCookie && safeEqual(state, stateCookie);
      const error = query.get('error');
      if (error) {
        if (bound) await takeRequest(state);
        if (error === 'access_denied') throw new SignInRefusal('denied', `Sign-in with ${connection.label} was cancelled or refused. You can try again, or use another sign-in method.`);
        throw new SignInRefusal('provider_error', `${connection.label} could not sign you in (${safeCode(error)}). Try again, or ask the person who runs this server.`);
      }
      if (!bound) throw new SignInRefusal('tampered', 'This sign-in answer does not belong to this browser. Start again from the sign-in page.');
      const request = await takeRequest(state);
      if (!request) throw new SignInRefusal('replayed', 'This sign-in answer was already used or has expired. Start again from the sign-in page.');
      if (request.connection_id !== connection.id) throw new SignInRefusal('tampered', 'This sign-in answer came back to the wrong sign-in method. Start again from the sign-in page.');
      const md = await metadataOf(connection);
      // RFC 9207 §2.4: when the provider names itself in the response, it must be the provider we sent the person to.
      const iss = query.get('iss');
      if (iss !== null && iss !== md.issuer) throw new SignInRefusal('tampered', 'This sign-in answer came from another provider. Start again from the sign-in page.');
      const code = query.get('code');
      if (!code || code.length > 4096) throw new SignInRefusal('tampered', 'This sign-in answer carries no code. Start again from the sign-in page.');

      const tokens = await exchangeCode(connection, md, code, deps.box.open(request.code_verifier_sealed));
      const idClaims = await validate(connection, md, tokens.idToken, request.nonce);
      const claims = await withUserinfo(connection, md, idClaims, tokens.accessToken);
      const account = await resolveAccount(connection, idClaims.iss, idClaims.sub, claims, request.link_user_id, audit);
      const joined = await autoJoin(connection, account.user, account.verified ? account.email : undefined, claims);
      deps.logger?.info({ event: 'sso_sign_in', connection: connection.name, userId: account.user.id, created: account.created, linked: account.linked, joined }, 'signed in through a connection');
      return { user: account.user, connection, created: account.created, linked: account.linked, joined, next: request.next_path };
    },
  };
}

export type SignInService = ReturnType<typeof signInService>;
