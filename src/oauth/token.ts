// The token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2): authorization_code with PKCE, refresh_token with rotation,
// client_credentials for machine clients (RFC 6749 §4.4), and the JWT bearer grant (RFC 7523 §2.1) carrying an
// enterprise identity provider's identity assertion (ID-JAG). Each grant type reads as a checklist of named steps;
// every response is JSON with no-store.
import { oauthMetrics, tokenErrorLabel } from './metrics.ts';
import { createHash } from 'node:crypto';
import { HttpError } from '../http/errors.ts';
import { jsonAnswer, TOO_LARGE, type EndpointRoute } from '../http/endpoint.ts';
import type { User } from '../accounts/index.ts';
import { authenticateClient } from './client-auth.ts';
import type { OAuthClient } from './clients.ts';
import { CORS_HEADERS } from './cors.ts';
import { issuerForPath, parseOAuthForm, type OAuthEndpointDeps } from './endpoint-helpers.ts';
import { NO_STORE, OAuthError } from './errors.ts';
import type { Grant } from './grants.ts';
import { issueIdToken } from './id-tokens.ts';
import { endpointUrl, grantAudience, issuerForResource, resolveResource, type IssuerContext } from './issuers.ts';
import { checkAssertion } from './jwt-assertions.ts';
import { verifyWithJwks } from './jwks.ts';
import { CLIENT_CREDENTIALS, isMachineClient, MACHINE_SCOPES } from './machine-clients.ts';
import { canonicalizeResource, parseResource, workspaceResourceUrl } from './resource.ts';
import { narrowScopes } from './scopes.ts';
import type { TrustedIdp } from './trusted-idps.ts';
import type { CodesTable, DeviceCodesTable, OAuthTables } from './tables.ts';

interface TokenRequest {
  services: OAuthEndpointDeps;
  ctx: IssuerContext;
  client: OAuthClient;
  form: Record<string, string>;
  requestId: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Not for client_credentials (RFC 6749 §4.4.3) nor identity assertions (the provider issues a fresh one). */
  refresh_token?: string;
  scope: string;
  id_token?: string;
}

// RFC 7636 §4.1: code_verifier = 43–128 unreserved characters.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7523 §2.1: the JWT bearer authorization grant. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Identity Assertion JWT Authorization Grant §3: the `typ` of an identity assertion. */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** RFC 8628 §3.4: the device authorization grant. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const SUPPORTED_GRANT_TYPES = ['authorization_code', 'refresh_token', CLIENT_CREDENTIALS, JWT_BEARER_GRANT, DEVICE_CODE_GRANT] as const;

const WORKSPACE_TOKEN_PATH = /^\/([^/]+)\/token$/;

/**
 * The token endpoint as a route of the endpoint table: every client refreshes hourly, so it is served by the
 * node:http adapter too. `/token` for the root issuer; `/<ws>/token` for a workspace issuer (workspace mode).
 */
export function tokenRoute(deps: OAuthEndpointDeps): EndpointRoute<{ slug: string | undefined }> {
  const limit = deps.config.bodyLimitBytes;
  return {
    name: 'token endpoint',
    template: '/token',
    methods: ['POST', 'OPTIONS'],
    headers: CORS_HEADERS,
    match(path) {
      if (path === '/token') return { slug: undefined };
      const m = deps.config.issuerMode === 'workspace' ? WORKSPACE_TOKEN_PATH.exec(path) : null;
      return m ? { slug: m[1] } : undefined;
    },
    async serve(req, { slug }) {
      if (req.method === 'OPTIONS') return { status: 204, headers: {}, body: null };
      const ctx = await issuerForPath(deps, slug);
      if (!ctx) throw new HttpError(404, 'not_found', `No route for POST ${req.path}`);
      const text = await req.readBody(limit);
      if (text === TOO_LARGE) throw new HttpError(413, 'request_too_large', `The request body exceeds ${limit} bytes`);
      const form = parseOAuthForm(req.header('content-type'), text);
      // The log line names the client the request claims (authenticated or not, it is what the client sent).
      if (form.client_id) req.clientId = form.client_id.slice(0, 200);
      const body = await exchangeToken(deps, ctx, { form, header: req.header, requestId: req.requestId });
      // RFC 6749 §5.1: "Cache-Control: no-store".
      return jsonAnswer(200, body, NO_STORE);
    },
  };
}

/** A token request as the endpoint sees it, whichever HTTP adapter carried it. */
export interface TokenEndpointRequest {
  form: Record<string, string>;
  /** Request headers by lower-case name. */
  header(name: string): string | undefined;
  requestId: string;
}

/** Authenticates the client and runs its grant; throws OAuthError for an RFC 6749 §5.2 error response. */
export async function exchangeToken(services: OAuthEndpointDeps, ctx: IssuerContext, request: TokenEndpointRequest): Promise<TokenResponse> {
  const { form, requestId } = request;
  // RFC 7523 §3 item 3: a client assertion names this issuer or its token endpoint as its audience.
  const assertionAudiences = [ctx.issuer, endpointUrl(ctx, 'token')];
  const { client } = await authenticateClient({ req: { header: request.header } }, form, services.oauth, { assertionAudiences }).catch(async (err: unknown) => {
    // A registered client that fails to authenticate is worth a line in its connection log (unknown ids are not).
    const known = form.client_id && (await services.oauth.clients.getClient(form.client_id));
    if (known && err instanceof OAuthError) await services.oauth.clientEvents.record({ clientId: known.clientId, kind: 'token_error', requestId, detail: `${err.error}: ${err.message}` });
    throw err;
  });
  const req: TokenRequest = { services, ctx, client, form, requestId };
  void services.oauth.runMaintenance();
  try {
    const issued = (grant: string) => <T,>(answer: T): T => {
      oauthMetrics.tokensIssued.child(grant).inc();
      return answer;
    };
    if (form.grant_type === 'authorization_code') return issued('authorization_code')(await exchangeAuthorizationCode(req));
    if (form.grant_type === 'refresh_token') return issued('refresh_token')(await exchangeRefreshToken(req));
    if (form.grant_type === CLIENT_CREDENTIALS) return issued('client_credentials')(await exchangeClientCredentials(req));
    if (form.grant_type === JWT_BEARER_GRANT) return issued('jwt_bearer')(await exchangeIdentityAssertion(req));
    if (form.grant_type === DEVICE_CODE_GRANT) return issued('device_code')(await exchangeDeviceCode(req));
    if (!form.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    throw new OAuthError('unsupported_grant_type', `Supported grant types: ${SUPPORTED_GRANT_TYPES.join(', ')}`);
  } catch (err) {
    if (err instanceof OAuthError) {
      oauthMetrics.tokenErrors.child(tokenErrorLabel(err.error)).inc();
      await services.oauth.clientEvents.record({ clientId: client.clientId, kind: 'token_error', requestId, detail: `${err.error}: ${err.message}` });
    }
    throw err;
  }
}

// --- authorization_code ----------------------------------------------------------------------------------------

async function exchangeAuthorizationCode(req: TokenRequest): Promise<TokenResponse> {
  const code = await loadCode(req);
  checkCodeBinding(req, code);
  checkPkce(req.form.code_verifier, code.code_challenge);
  const audience = narrowAudience(req, grantAudience(req.services.config, code.resource, code.resource_implicit === 1));
  const user = await requireMembership(req, code.user_id, code.workspace_id);
  const issued = await redeemCode(req, code);
  const scopes = code.scope ? code.scope.split(' ') : [];
  await req.services.oauth.clientEvents.record({ clientId: req.client.clientId, workspaceId: code.workspace_id, kind: 'token', requestId: req.requestId, detail: 'authorization code exchanged' });
  return respond(req, issued.grant, audience, scopes, issued.refreshToken, user, { nonce: code.nonce, authTime: code.auth_time });
}

async function loadCode(req: TokenRequest): Promise<CodesTable> {
  if (!req.form.code) throw new OAuthError('invalid_request', 'code is required');
  const code = await req.services.oauth.codes.findCode(req.form.code);
  if (!code) throw new OAuthError('invalid_grant', 'The authorization code is invalid');
  // RFC 6749 §4.1.2 / RFC 9700 §4.2.4: a code used twice is a sign of theft: revoke what it issued.
  if (code.used_at !== null) await revokeForReplayedCode(req, code.code_hash);
  if (code.expires_at <= Date.now()) throw new OAuthError('invalid_grant', 'The authorization code has expired');
  return code;
}

function checkCodeBinding(req: TokenRequest, code: CodesTable): void {
  if (code.client_id !== req.client.clientId) throw new OAuthError('invalid_grant', 'The authorization code was issued to another client');
  if (code.issuer !== req.ctx.issuer) throw new OAuthError('invalid_grant', 'The authorization code was issued by another authorization server');
  // RFC 6749 §4.1.3: redirect_uri must be identical when the authorization request included it.
  const presented = req.form.redirect_uri;
  if (code.redirect_uri_sent === 1 && presented === undefined) throw new OAuthError('invalid_grant', 'redirect_uri is required: the authorization request included it');
  if (presented !== undefined && presented !== code.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
}

function checkPkce(verifier: string | undefined, challenge: string): void {
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  if (!VERIFIER.test(verifier)) throw new OAuthError('invalid_grant', 'code_verifier must be 43–128 unreserved characters');
  // RFC 7636 §4.6: BASE64URL(SHA256(verifier)) must equal the challenge.
  if (createHash('sha256').update(verifier).digest('base64url') !== challenge) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
}

async function redeemCode(req: TokenRequest, code: CodesTable): Promise<{ grant: Grant; refreshToken: string }> {
  const { oauth } = req.services;
  const result = await req.services.store.typed<OAuthTables>().transaction().execute(async (t) => {
    // Single use, atomically: of two concurrent redemptions exactly one wins; the other is a replay.
    if (!(await oauth.codes.consumeCode(code.code_hash, t))) return undefined;
    const grant = await oauth.grants.createGrant(
      { clientId: code.client_id, userId: code.user_id, workspaceId: code.workspace_id, resource: code.resource, scopes: code.scope ? code.scope.split(' ') : [], resourceImplicit: code.resource_implicit === 1 },
      t,
    );
    const refreshToken = await oauth.refreshTokens.issueRefreshToken(grant.id, t);
    await oauth.codes.recordGrant(code.code_hash, grant.id, t);
    await oauth.clients.markGranted(code.client_id, t);
    return { grant, refreshToken };
  });
  if (!result) await revokeForReplayedCode(req, code.code_hash);
  return result!;
}

async function revokeForReplayedCode(req: TokenRequest, codeHash: string): Promise<never> {
  const grantId = await req.services.oauth.codes.grantOf(codeHash);
  oauthMetrics.replays.child('authorization_code').inc();
  if (grantId) await req.services.oauth.grants.revokeGrant(grantId, 'authorization code replayed');
  req.services.logger.warn({ requestId: req.requestId, clientId: req.client.clientId, grantId }, 'authorization code replayed; its grant was revoked');
  throw new OAuthError('invalid_grant', 'The authorization code has already been used; the access it granted has been revoked');
}

// --- refresh_token ---------------------------------------------------------------------------------------------

async function exchangeRefreshToken(req: TokenRequest): Promise<TokenResponse> {
  const { oauth } = req.services;
  const grant = await loadRefreshGrant(req);
  const scopes = narrowRequestedScopes(req, grant);
  const audience = narrowAudience(req, grantAudience(req.services.config, grant.resource, grant.resourceImplicit));
  const user = await requireMembership(req, grant.userId, grant.workspaceId, grant.id);
  const event = (detail: string) => ({ clientId: req.client.clientId, workspaceId: grant.workspaceId, kind: 'refresh' as const, requestId: req.requestId, detail });
  const rotation = await oauth.refreshTokens.rotateRefreshToken(req.form.refresh_token, {
    // The connection-log line commits with the rotation: one transaction, one disk sync.
    alsoOnRotation: (trx) => oauth.clientEvents.append(event('refresh token rotated'), trx),
  });
  if (rotation.kind === 'replay') return revokeForReplayedRefresh(req, grant);
  if (rotation.kind === 'grace') await oauth.clientEvents.record(event('retried within the grace window: same successor'));
  if (rotation.kind === 'reissued') await oauth.clientEvents.record(event('retried before the successor was used: fresh successor, the unused one superseded'));
  return respond(req, grant, audience, scopes, rotation.successor, user, { nonce: null, authTime: grant.createdAt }, rotation.generation);
}

async function loadRefreshGrant(req: TokenRequest): Promise<Grant> {
  const { oauth } = req.services;
  if (!req.form.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const found = await oauth.refreshTokens.findRefreshTokenWithGrant(req.form.refresh_token);
  if (!found) throw new OAuthError('invalid_grant', 'The refresh token is invalid');
  const { token, grant } = found;
  if (grant.clientId !== req.client.clientId) throw new OAuthError('invalid_grant', 'The refresh token was issued to another client');
  if (grant.revokedAt !== null) throw new OAuthError('invalid_grant', 'The refresh token has been revoked');
  if (issuerForResource(req.services.config, grant.resource) !== req.ctx.issuer) throw new OAuthError('invalid_grant', 'The refresh token was issued by another authorization server');
  if (token.expires_at <= Date.now()) throw new OAuthError('invalid_grant', 'The refresh token has expired');
  return grant;
}

function narrowRequestedScopes(req: TokenRequest, grant: Grant): string[] {
  if (req.form.scope === undefined) return grant.scopes;
  const narrowed = narrowScopes(req.form.scope, grant.scopes);
  // RFC 6749 §6: the scope "MUST NOT include any scope not originally granted".
  if (!narrowed) throw new OAuthError('invalid_scope', 'A refresh may narrow the granted scope, never widen it');
  return narrowed;
}

async function revokeForReplayedRefresh(req: TokenRequest, grant: Grant): Promise<never> {
  // RFC 9700 §4.14.2: a rotated refresh token presented again after its successor was used means one of two parties
  // has a stolen copy.
  oauthMetrics.replays.child('refresh_token').inc();
  await req.services.oauth.grants.revokeGrant(grant.id, 'refresh token replayed');
  await req.services.oauth.clientEvents.record({ clientId: req.client.clientId, workspaceId: grant.workspaceId, kind: 'refresh_replay', requestId: req.requestId, detail: 'a used refresh token was presented again after its successor was used; the grant was revoked' });
  req.services.logger.warn({ requestId: req.requestId, clientId: req.client.clientId, clientName: req.client.name, grantId: grant.id }, 'refresh token replayed after its successor was used; grant revoked');
  throw new OAuthError('invalid_grant', 'The refresh token has already been used; the grant has been revoked');
}

// --- client_credentials (machine clients) ----------------------------------------------------------------------

async function exchangeClientCredentials(req: TokenRequest): Promise<TokenResponse> {
  requireMachineClient(req);
  const binding = await loadWorkspaceBinding(req);
  const resource = machineResource(req, binding.slug);
  const scopes = machineScopes(req);
  const user = await requireMembership(req, binding.boundBy, binding.workspaceId);
  const grant = await req.services.oauth.grants.standingGrant({ clientId: req.client.clientId, userId: user.id, workspaceId: binding.workspaceId, resource, scopes: [...(req.client.scope?.split(' ') ?? MACHINE_SCOPES)] });
  await req.services.oauth.clients.markGranted(req.client.clientId);
  await req.services.oauth.clientEvents.record({ clientId: req.client.clientId, workspaceId: binding.workspaceId, kind: 'token', requestId: req.requestId, detail: 'client credentials exchanged' });
  return respond(req, grant, [resource], scopes, undefined, user, { nonce: null, authTime: grant.createdAt });
}

function requireMachineClient(req: TokenRequest): void {
  // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
  if (!req.client.confidential) throw new OAuthError('unauthorized_client', 'client_credentials is for confidential clients only');
  if (!isMachineClient(req.client)) throw new OAuthError('unauthorized_client', 'This client is not a machine client: create one with `tollgate admin client create-machine`');
}

async function loadWorkspaceBinding(req: TokenRequest): Promise<{ workspaceId: string; slug: string; boundBy: string }> {
  const binding = await req.services.oauth.workspaceClients.bindingOf(req.client.clientId);
  const workspace = binding && (await req.services.accounts.workspaces.getWorkspace(binding.workspaceId));
  if (!binding?.createdBy || !workspace) throw new OAuthError('unauthorized_client', 'This machine client is bound to no workspace');
  return { workspaceId: workspace.id, slug: workspace.slug, boundBy: binding.createdBy };
}

/** RFC 8707 §2: the bound workspace's endpoint is the only resource a machine client's token may be for. */
function machineResource(req: TokenRequest, slug: string): string {
  const own = workspaceResourceUrl(req.services.config.publicUrl, slug);
  if (req.ctx.slug !== undefined && req.ctx.slug !== slug) throw new OAuthError('invalid_target', 'This machine client is bound to another workspace');
  if (req.ctx.slug === undefined && req.services.config.issuerMode === 'workspace') throw new OAuthError('invalid_target', `Tokens for ${own} come from ${req.ctx.issuer}/${slug}`);
  if (req.form.resource === undefined || req.form.resource === '') return own;
  if (canonicalizeResource(req.form.resource) !== own) throw new OAuthError('invalid_target', `This machine client's tokens are for ${own} only`);
  return own;
}

function machineScopes(req: TokenRequest): string[] {
  const allowed = req.client.scope ? req.client.scope.split(' ') : [...MACHINE_SCOPES];
  if (req.form.scope === undefined || !req.form.scope.trim()) return allowed;
  const narrowed = narrowScopes(req.form.scope, allowed);
  // RFC 6749 §5.2: a scope beyond what the client may hold is invalid_scope.
  if (!narrowed) throw new OAuthError('invalid_scope', `This machine client may hold ${allowed.join(' ')} only`);
  return narrowed;
}

// --- JWT bearer: identity assertions (ID-JAG) -------------------------------------------------------------------

interface IdentityAssertion {
  idp: TrustedIdp;
  subject: string;
  email: string | undefined;
  scope: string | undefined;
  resource: string | undefined;
}

async function exchangeIdentityAssertion(req: TokenRequest): Promise<TokenResponse> {
  const assertion = await verifyIdentityAssertion(req);
  const target = await assertionTarget(req, assertion);
  const user = await mapSubjectToAccount(req, assertion);
  const workspace = await assertionWorkspace(req, target, user);
  const scopes = assertionScopes(req, assertion);
  const grant = await req.services.oauth.grants.standingGrant({ clientId: req.client.clientId, userId: user.id, workspaceId: workspace.id, resource: workspace.resource, scopes });
  await req.services.oauth.clients.markGranted(req.client.clientId);
  await req.services.oauth.clientEvents.record({ clientId: req.client.clientId, workspaceId: workspace.id, kind: 'token', requestId: req.requestId, detail: `identity assertion of ${assertion.idp.name} exchanged` });
  return respond(req, grant, [workspace.resource], scopes, undefined, user, { nonce: null, authTime: grant.createdAt });
}

/** ID-JAG §4.3 (and RFC 7523 §3): every check of the assertion itself; any failure is invalid_grant. */
async function verifyIdentityAssertion(req: TokenRequest): Promise<IdentityAssertion> {
  const { oauth } = req.services;
  if (!req.form.assertion) throw new OAuthError('invalid_request', 'assertion is required');
  // ID-JAG §3: the audience is this authorization server's issuer identifier.
  const checked = checkAssertion(req.form.assertion, { typ: ID_JAG_TYP, audiences: [req.ctx.issuer] });
  if (!checked.ok) throw new OAuthError('invalid_grant', `Identity assertion refused: ${checked.reason}`);
  const p = checked.payload;
  const idp = typeof p.iss === 'string' ? await oauth.trustedIdps.findByIssuer(p.iss) : undefined;
  if (!idp) throw new OAuthError('invalid_grant', 'Identity assertion refused: its issuer is not a trusted identity provider');
  const keys = await oauth.trustedIdps.signingKeys(idp, checked.decoded.header.kid);
  if (!verifyWithJwks(checked.decoded, keys)) throw new OAuthError('invalid_grant', 'Identity assertion refused: the signature does not verify with the provider\'s keys');
  if (typeof p.sub !== 'string' || !p.sub || p.sub.length > 255) throw new OAuthError('invalid_grant', 'Identity assertion refused: sub is missing');
  // ID-JAG §4.3: the client_id claim must be the client that authenticated.
  if (p.client_id !== req.client.clientId) throw new OAuthError('invalid_grant', 'Identity assertion refused: it was issued to another client');
  if (!idp.allowedClientIds.includes(req.client.clientId)) throw new OAuthError('unauthorized_client', `This client may not present identity assertions of ${idp.name}`);
  if (!(await oauth.usedJtis.claim(`idp:${idp.issuer}`, checked.jti, checked.expiresAt))) throw new OAuthError('invalid_grant', 'Identity assertion refused: it was already used (jti replay)');
  return {
    idp,
    subject: p.sub,
    email: typeof p.email === 'string' && p.email_verified !== false ? p.email : undefined,
    scope: typeof p.scope === 'string' ? p.scope : undefined,
    resource: typeof p.resource === 'string' ? p.resource : undefined,
  };
}

/**
 * The resource the token is for: the assertion's `resource` claim, which a `resource` parameter may only repeat. The
 * claim is optional (MCP enterprise-managed authorization §4.3: "if present"); without it, the `resource` parameter,
 * else the endpoint the issuer implies (a workspace issuer's own; at the root, the user's one workspace's).
 */
async function assertionTarget(req: TokenRequest, assertion: IdentityAssertion): Promise<{ kind: 'workspace'; resource: string; slug: string } | { kind: 'shared'; resource: string | undefined }> {
  const resolved = resolveResource(req.services.config, req.ctx, assertion.resource ?? req.form.resource, req.services.oauth.resourceServers);
  if ('error' in resolved) throw new OAuthError('invalid_target', resolved.error);
  // RFC 8707 §2: a resource parameter may not point the token anywhere the assertion did not.
  if (assertion.resource && req.form.resource !== undefined && canonicalizeResource(req.form.resource) !== canonicalizeResource(assertion.resource)) throw new OAuthError('invalid_target', 'resource differs from the identity assertion\'s resource');
  if (resolved.kind === 'workspace') return resolved;
  return { kind: 'shared', resource: resolved.resource ?? undefined };
}

/** The account: the one this (iss, sub) was mapped to, else the account with the asserted e-mail, if verified. */
async function mapSubjectToAccount(req: TokenRequest, assertion: IdentityAssertion): Promise<User> {
  const { oauth, accounts } = req.services;
  const linked = await oauth.trustedIdps.findIdentity(assertion.idp.issuer, assertion.subject);
  if (linked) {
    const user = await accounts.users.getUser(linked);
    if (user) return user;
  }
  const byEmail = assertion.email ? await accounts.users.findUserByEmail(assertion.email) : undefined;
  // An e-mail match alone proves nothing unless Tollgate knows the address belongs to the account.
  if (!byEmail || !byEmail.emailVerified) throw new OAuthError('invalid_grant', 'Identity assertion refused: its subject maps to no account here');
  await oauth.trustedIdps.linkIdentity(assertion.idp.issuer, assertion.subject, byEmail.id);
  return byEmail;
}

async function assertionWorkspace(req: TokenRequest, target: Awaited<ReturnType<typeof assertionTarget>>, user: User): Promise<{ id: string; resource: string }> {
  const { workspaces } = req.services.accounts;
  if (target.kind === 'workspace') {
    const ws = await workspaces.getWorkspaceBySlug(target.slug);
    if (!ws || !(await workspaces.getRole(ws.id, user.id))) throw new OAuthError('invalid_grant', 'The user is not a member of the workspace the assertion is for');
    return { id: ws.id, resource: target.resource };
  }
  // No consent screen to pick a workspace on: the shared endpoint works only for a user of exactly one.
  const mine = await workspaces.listWorkspacesForUser(user.id);
  if (mine.length !== 1) throw new OAuthError('invalid_target', 'The user belongs to several workspaces (or none): the assertion\'s resource must name a workspace endpoint');
  return { id: mine[0].id, resource: target.resource ?? workspaceResourceUrl(req.services.config.publicUrl, mine[0].slug) };
}

function assertionScopes(req: TokenRequest, assertion: IdentityAssertion): string[] {
  // Sign-in scopes need a person at a consent screen; an assertion grants MCP access only.
  const asserted = assertion.scope?.trim().split(/\s+/);
  const allowed = asserted === undefined ? [...MACHINE_SCOPES] : MACHINE_SCOPES.filter((s) => asserted.includes(s));
  if (!allowed.length) throw new OAuthError('invalid_scope', 'The identity assertion grants no scope Tollgate issues (mcp:read, mcp:write)');
  if (req.form.scope === undefined || !req.form.scope.trim()) return allowed;
  // MCP enterprise-managed authorization §7.2.1: the token gets the intersection of the requested and asserted scopes.
  const asked = req.form.scope.trim().split(/\s+/);
  const granted = allowed.filter((s) => asked.includes(s));
  if (!granted.length) throw new OAuthError('invalid_scope', `The identity assertion grants ${allowed.join(' ')} only, none of the scopes asked for`);
  return granted;
}

// --- device_code (RFC 8628) ----------------------------------------------------------------------------------

async function exchangeDeviceCode(req: TokenRequest): Promise<TokenResponse> {
  const row = await pollDeviceCode(req);
  const user = await requireMembership(req, row.user_id!, row.workspace_id!);
  const scopes = row.scope ? row.scope.split(' ') : [];
  const implicit = row.resource_implicit === 1;
  const issued = await redeemDeviceCode(req, row, scopes, implicit);
  const audience = narrowAudience(req, grantAudience(req.services.config, row.granted_resource!, implicit));
  await req.services.oauth.clientEvents.record({ clientId: req.client.clientId, workspaceId: row.workspace_id!, kind: 'token', requestId: req.requestId, detail: 'device code exchanged' });
  return respond(req, issued.grant, audience, scopes, issued.refreshToken, user, { nonce: null, authTime: Number(row.auth_time ?? Date.now()) });
}

/** RFC 8628 §3.5: each state of the request is its own error code, and polling too fast is slow_down. */
async function pollDeviceCode(req: TokenRequest): Promise<DeviceCodesTable> {
  if (!req.form.device_code) throw new OAuthError('invalid_request', 'device_code is required');
  const polled = await req.services.oauth.deviceCodes.poll(req.form.device_code);
  if (polled.kind === 'unknown') throw new OAuthError('invalid_grant', 'The device code is invalid');
  const row = polled.row;
  if (row.client_id !== req.client.clientId) throw new OAuthError('invalid_grant', 'The device code was issued to another client');
  if (row.issuer !== req.ctx.issuer) throw new OAuthError('invalid_grant', 'The device code was issued by another authorization server');
  if (row.status === 'used') throw new OAuthError('invalid_grant', 'The device code has already been used');
  if (row.expires_at <= Date.now()) throw new OAuthError('expired_token', 'The device code has expired: start again');
  if (row.status === 'denied') throw new OAuthError('access_denied', 'The user denied the request');
  if (polled.kind === 'slow_down') throw new OAuthError('slow_down', `Polling too fast: wait ${row.interval_s} s between requests`);
  if (row.status === 'pending') throw new OAuthError('authorization_pending', 'The user has not approved the request yet');
  return row;
}

async function redeemDeviceCode(req: TokenRequest, row: DeviceCodesTable, scopes: string[], implicit: boolean): Promise<{ grant: Grant; refreshToken: string }> {
  const { oauth } = req.services;
  const result = await req.services.store.typed<OAuthTables>().transaction().execute(async (t) => {
    // Single use: of concurrent polls after the approval exactly one gets the tokens.
    if (!(await oauth.deviceCodes.consume(row.device_code_hash, t))) return undefined;
    const grant = await oauth.grants.createGrant({ clientId: row.client_id, userId: row.user_id!, workspaceId: row.workspace_id!, resource: row.granted_resource!, scopes, resourceImplicit: implicit }, t);
    const refreshToken = await oauth.refreshTokens.issueRefreshToken(grant.id, t);
    await oauth.clients.markGranted(row.client_id, t);
    return { grant, refreshToken };
  });
  if (!result) throw new OAuthError('invalid_grant', 'The device code has already been used');
  return result;
}

// --- shared steps ----------------------------------------------------------------------------------------------

/** RFC 8707 §2.2: a `resource` at the token endpoint narrows the audience to one of the granted resources. */
function narrowAudience(req: TokenRequest, audience: string[]): string[] {
  if (req.form.resource === undefined) return audience;
  const wanted = canonicalizeResource(req.form.resource);
  if (!wanted || !audience.includes(wanted)) throw new OAuthError('invalid_target', 'resource is not one this grant was authorized for');
  return [wanted];
}

/** The user must still belong to the workspace; otherwise the grant ends. */
async function requireMembership(req: TokenRequest, userId: string, workspaceId: string, grantId?: string): Promise<User> {
  const { accounts, oauth } = req.services;
  const user = await accounts.users.getUser(userId);
  const role = user && (await accounts.workspaces.getRole(workspaceId, userId));
  if (user && role) return user;
  if (grantId) await oauth.grants.revokeGrant(grantId, 'workspace membership ended');
  throw new OAuthError('invalid_grant', 'The user is no longer a member of the workspace');
}

async function respond(
  req: TokenRequest, grant: Grant, audience: string[], scopes: string[], refreshToken: string | undefined, user: User, oidc: { nonce: string | null; authTime: number }, refreshGeneration = 0,
): Promise<TokenResponse> {
  const { config, oauth, accounts } = req.services;
  const target = parseResource(config.publicUrl, grant.resource);
  const workspaceSlug = target?.kind === 'workspace' ? target.slug : ((await accounts.workspaces.getWorkspace(grant.workspaceId))?.slug ?? '');
  const { accessToken, expiresIn } = await oauth.accessTokens.issueAccessToken({
    grantId: grant.id,
    userId: grant.userId,
    clientId: grant.clientId,
    workspaceId: grant.workspaceId,
    workspaceSlug,
    resource: audience[0],
    audience,
    scopes,
    refreshGeneration,
  });
  const body: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, ...(refreshToken ? { refresh_token: refreshToken } : {}), scope: scopes.join(' ') };
  if (scopes.includes('openid')) {
    body.id_token = await issueIdToken(oauth.keys, {
      issuer: req.ctx.issuer,
      user,
      clientId: grant.clientId,
      scopes,
      nonce: oidc.nonce,
      authTime: oidc.authTime,
      accessToken,
      alg: req.client.extra.id_token_signed_response_alg === 'ES256' ? 'ES256' : 'RS256',
      ttlSeconds: config.accessTokenTtlSeconds,
    });
  }
  return body;
}
