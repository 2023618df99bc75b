// The authorization endpoint's logic (RFC 6749 §4.1.1, OAuth 2.1 §4.1): validate the request, then — after sign-in
// and consent, which the web pages handle — issue a code or an error. Until the client and its redirect URI are known
// good, errors are shown to the user and never redirected (RFC 6749 §4.1.2.1: no open redirector).
import type { Role, User, Workspace } from '../accounts/index.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { clientMayUseWorkspace, consentOptions, signInStep, type ConsentOptions } from './authorization-policy.ts';
import type { ClientEvents } from './client-events.ts';
import type { OAuthClient } from './clients.ts';
import type { CodesService } from './codes.ts';
import { OAuthError } from './errors.ts';
import { issuerForSlug, resolveResource, type IssuerConfig, type IssuerContext, type ResolvedResource, type ResourceServers } from './issuers.ts';
import { findRegisteredRedirect, isLoopbackRedirect } from './redirect-uris.ts';
import { workspaceResourceUrl } from './resource.ts';
import { parseRequestedScopes } from './scopes.ts';
import type { WorkspaceClients } from './workspace-clients.ts';

/** The workspace lookups /authorize needs (the accounts module's workspaces service provides them). */
export interface WorkspaceLookup {
  getWorkspaceBySlug(slug: string): Promise<Workspace | undefined>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  getRole(workspaceId: string, userId: string): Promise<Role | undefined>;
  listWorkspacesForUser(userId: string): Promise<Workspace[]>;
}

/** What the authorization endpoint's functions use. */
export interface AuthorizeDeps {
  readonly config: IssuerConfig;
  readonly workspaces: WorkspaceLookup;
  readonly oauth: {
    resolveClient(clientId: string): Promise<OAuthClient | undefined>;
    readonly codes: Pick<CodesService, 'issueCode'>;
    readonly clientEvents: Pick<ClientEvents, 'record'>;
    readonly requestBox: Pick<SecretBox, 'seal' | 'open'>;
    readonly workspaceClients: Pick<WorkspaceClients, 'ownerOf'>;
    readonly resourceServers: ResourceServers;
  };
}

/** A validated authorization request: everything the consent decision needs, sealed into the consent form. */
export interface AuthorizationRequest {
  issuer: string;
  slug?: string;
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  state?: string;
  codeChallenge: string;
  scopes: string[];
  resource: ResolvedResource;
  nonce?: string;
  /** OpenID Connect `prompt` values (none, login, consent, select_account; unknown ones dropped). */
  prompt: string[];
  /** OpenID Connect `max_age`: seconds since the user last signed in beyond which they must sign in again. */
  maxAge?: number;
}

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

export type AuthorizeOutcome =
  /** Shown on an HTML page: the client or its redirect URI could not be trusted. */
  | { kind: 'page'; status: 400 | 404; title: string; message: string }
  /** An error sent back to the client's redirect URI. */
  | { kind: 'redirect'; location: string; error: string; description: string }
  | { kind: 'ok'; request: AuthorizationRequest; client: OAuthClient };

const LIMITS = { state: 2048, nonce: 512, scope: 2048, clientId: 2048, redirectUri: 2048 } as const;
// RFC 7636 §4.2: the S256 challenge is the base64url SHA-256 of the verifier: 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** `redirect_uri` with the response parameters added (RFC 9207: `iss` on every response, errors included). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.append(k, v);
  return u.toString();
}

export function errorRedirect(request: Pick<AuthorizationRequest, 'redirectUri' | 'state' | 'issuer'>, error: string, description: string): string {
  return redirectWith(request.redirectUri, { error, error_description: description, state: request.state, iss: request.issuer });
}

const page = (title: string, message: string, status: 400 | 404 = 400): AuthorizeOutcome => ({ kind: 'page', status, title, message });

/** The issuer whose /authorize this is (the root's, or in workspace mode an existing workspace's); undefined: 404. */
export function authorizationIssuer(deps: Pick<AuthorizeDeps, 'config' | 'workspaces'>, slug: string | undefined): Promise<IssuerContext | undefined> {
  return issuerForSlug(deps.config, deps.workspaces, slug);
}

/** The checklist: client → redirect URI (errors shown) → response type → PKCE → resource → scopes (errors redirected). */
export async function validateAuthorizationRequest(deps: AuthorizeDeps, ctx: IssuerContext, query: URLSearchParams): Promise<AuthorizeOutcome> {
  const params = readParams(query);
  const client = await identifyClient(deps, params);
  if ('kind' in client) return client;
  const redirect = checkRedirectUri(client.client, params);
  if ('kind' in redirect) return redirect;

  // From here on the redirect URI is trusted, so errors go back to the client (with `state` when it is usable).
  const state = params.single.state;
  const stateUsable = !params.repeated.has('state') && (state?.length ?? 0) <= LIMITS.state;
  const base = { issuer: ctx.issuer, redirectUri: redirect.uri, state: stateUsable ? state : undefined };
  const fail = (error: string, description: string): AuthorizeOutcome => ({ kind: 'redirect', location: errorRedirect(base, error, description), error, description });
  if (!stateUsable) return fail('invalid_request', 'state is repeated or longer than 2048 characters');
  if (params.repeated.size) return fail('invalid_request', `Parameter "${[...params.repeated][0].slice(0, 40)}" is included more than once`);
  const p = params.single;
  if (p.request !== undefined || p.request_uri !== undefined) return fail('request_not_supported', 'Request objects are not supported');
  if (!p.response_type) return fail('invalid_request', 'response_type is required');
  if (p.response_type !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported');
  if (p.response_mode !== undefined && p.response_mode !== 'query') return fail('invalid_request', 'Only response_mode=query is supported');
  // OAuth 2.1 §4.1.1 / RFC 9700 §2.1.1: PKCE is required, and only S256 (plain would expose the verifier).
  if (!p.code_challenge) return fail('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (p.code_challenge_method !== 'S256') return fail('invalid_request', p.code_challenge_method ? 'code_challenge_method must be S256' : 'code_challenge_method is required and must be S256');
  if (!S256_CHALLENGE.test(p.code_challenge)) return fail('invalid_request', 'code_challenge must be 43 base64url characters (the S256 hash of the verifier)');
  if ((p.scope?.length ?? 0) > LIMITS.scope) return fail('invalid_request', 'scope is too long');
  if ((p.nonce?.length ?? 0) > LIMITS.nonce) return fail('invalid_request', 'nonce is too long');

  // OpenID Connect Core §3.1.2.1: `none` with any other prompt value is an error; max_age is a count of seconds.
  const prompt = [...new Set((p.prompt ?? '').split(' ').filter((v) => PROMPTS.has(v)))];
  if (prompt.includes('none') && prompt.length > 1) return fail('invalid_request', 'prompt=none cannot be combined with other prompt values');
  if (p.max_age !== undefined && !/^\d{1,9}$/.test(p.max_age)) return fail('invalid_request', 'max_age must be a non-negative number of seconds');

  const resource = resolveResource(deps.config, ctx, p.resource, deps.oauth.resourceServers);
  if ('error' in resource) return fail('invalid_target', resource.error);
  if (resource.kind === 'workspace' && !(await deps.workspaces.getWorkspaceBySlug(resource.slug))) {
    return fail('invalid_target', `Workspace "${resource.slug}" not found`);
  }

  return {
    kind: 'ok',
    client: client.client,
    request: {
      issuer: ctx.issuer,
      slug: ctx.slug,
      clientId: client.client.clientId,
      redirectUri: redirect.uri,
      redirectUriSent: redirect.sent,
      state: p.state,
      codeChallenge: p.code_challenge,
      scopes: parseRequestedScopes(p.scope),
      resource,
      nonce: p.nonce,
      prompt,
      maxAge: p.max_age === undefined ? undefined : Number(p.max_age),
    },
  };
}

function readParams(query: URLSearchParams): { single: Record<string, string | undefined>; repeated: Set<string> } {
  const single: Record<string, string | undefined> = Object.create(null);
  const repeated = new Set<string>();
  for (const [k, v] of query) {
    if (k in single) repeated.add(k);
    else single[k] = v;
  }
  return { single, repeated };
}

async function identifyClient(deps: Pick<AuthorizeDeps, 'oauth'>, params: ReturnType<typeof readParams>): Promise<{ client: OAuthClient } | AuthorizeOutcome> {
  // RFC 6749 §3.1: parameters must not repeat; a repeated client_id cannot be trusted to say who is asking.
  if (params.repeated.has('client_id')) return page('Invalid request', 'The request names client_id more than once.');
  const clientId = params.single.client_id;
  if (!clientId) return page('Invalid request', 'The request does not say which application is asking (client_id is missing).');
  if (clientId.length > LIMITS.clientId) return page('Invalid request', 'The client_id is too long.');
  try {
    const client = await deps.oauth.resolveClient(clientId);
    if (!client) return page('Unknown application', 'The application that sent you here is not registered with this server. Return to it and connect again.');
    return { client };
  } catch (err) {
    if (err instanceof OAuthError) return page('Application not recognised', err.message);
    throw err;
  }
}

function checkRedirectUri(client: OAuthClient, params: ReturnType<typeof readParams>): { uri: string; sent: boolean } | AuthorizeOutcome {
  if (params.repeated.has('redirect_uri')) return page('Invalid request', 'The request names redirect_uri more than once.');
  const presented = params.single.redirect_uri;
  if (presented === undefined) {
    // OAuth 2.1 §2.3.2: without redirect_uri only a single registered (fixed) URI can be used.
    const only = client.redirectUris.length === 1 && !isLoopbackRedirect(client.redirectUris[0]) ? client.redirectUris[0] : undefined;
    return only ? { uri: only, sent: false } : page('Invalid request', 'The request does not say where to return (redirect_uri is missing).');
  }
  if (presented.length > LIMITS.redirectUri || !findRegisteredRedirect(client.redirectUris, presented)) {
    return page('Invalid redirect URI', 'The address this request asks to return to is not registered for this application, so Tollgate will not send you there.');
  }
  return { uri: presented, sent: true };
}

export type AuthorizationStep =
  /** An error for the client's redirect URI (prompt=none when a page would be needed). */
  | { kind: 'redirect'; location: string; error: string; description: string }
  /** Sign in, then return to the same request. */
  | { kind: 'sign-in' }
  /** Sign in again, then return with `prompt` set to these values (none: no `prompt`). */
  | { kind: 'fresh-sign-in'; promptAfter: string[] }
  /** Ask for consent, offering these workspaces (or only Deny, when `blocked` says why). */
  | ({ kind: 'consent' } & ConsentOptions);

/** What happens next for a validated request, given who is signed in (and since when). */
export async function nextAuthorizationStep(
  deps: Pick<AuthorizeDeps, 'workspaces' | 'oauth'>,
  request: AuthorizationRequest,
  client: Pick<OAuthClient, 'clientId' | 'name' | 'kind'>,
  session: { user: Pick<User, 'id'>; authTime: number } | undefined,
  now = Date.now(),
): Promise<AuthorizationStep> {
  const step = signInStep(request, session, now);
  if (step.kind === 'error') return { kind: 'redirect', location: errorRedirect(request, step.error, step.description), error: step.error, description: step.description };
  if (step.kind !== 'signed-in' || !session) return step.kind === 'fresh-sign-in' ? step : { kind: 'sign-in' };
  const userId = session.user.id;
  let facts: Parameters<typeof consentOptions>[1];
  if (request.resource.kind === 'workspace') {
    const workspace = await deps.workspaces.getWorkspaceBySlug(request.resource.slug);
    facts = { kind: 'workspace', slug: request.resource.slug, workspace, isMember: !!workspace && !!(await deps.workspaces.getRole(workspace.id, userId)) };
  } else {
    facts = { kind: 'pick', memberOf: await deps.workspaces.listWorkspacesForUser(userId) };
  }
  // Only pre-registered clients can be created on a dashboard.
  const ownerId = client.kind === 'static' ? await deps.oauth.workspaceClients.ownerOf(client.clientId) : undefined;
  const ownerWorkspace = ownerId ? await deps.workspaces.getWorkspace(ownerId) : undefined;
  return { kind: 'consent', ...consentOptions(client.name, facts, ownerWorkspace) };
}

export type ConsentDecision = { approve: false } | { approve: true; workspaceSlug?: string };

export type DecisionOutcome = { kind: 'redirect'; location: string } | { kind: 'page'; status: 400 | 403; title: string; message: string };

/**
 * Carries out the user's decision: a code bound to client, redirect URI, challenge, resource, scopes, user and
 * workspace (approve), or `access_denied` (deny). Both answers carry `state` and `iss`.
 */
export async function decideAuthorization(
  deps: AuthorizeDeps,
  request: AuthorizationRequest,
  user: User,
  decision: ConsentDecision,
  meta: { requestId?: string; authTime: number },
): Promise<DecisionOutcome> {
  const events = deps.oauth.clientEvents;
  if (!decision.approve) {
    await events.record({ clientId: request.clientId, kind: 'consent_denied', requestId: meta.requestId, detail: 'the user denied access' });
    return { kind: 'redirect', location: errorRedirect(request, 'access_denied', 'The user denied access') };
  }
  const slug = request.resource.kind === 'workspace' ? request.resource.slug : decision.workspaceSlug;
  if (!slug) return { kind: 'page', status: 400, title: 'Choose a workspace', message: 'Choose the workspace this application may use.' };
  const workspace = await deps.workspaces.getWorkspaceBySlug(slug);
  if (!clientMayUseWorkspace(await deps.oauth.workspaceClients.ownerOf(request.clientId), workspace?.id)) {
    return { kind: 'page', status: 403, title: 'Not this workspace', message: 'This app was created on another workspace’s dashboard and can be given access to that workspace only.' };
  }
  const role = workspace && (await deps.workspaces.getRole(workspace.id, user.id));
  if (!workspace || !role) return { kind: 'page', status: 403, title: 'Not a member', message: `You are not a member of the workspace "${slug.slice(0, 40)}".` };

  const resource = request.resource.kind === 'workspace' ? request.resource.resource : (request.resource.resource ?? workspaceResourceUrl(deps.config.publicUrl, slug));
  const code = await deps.oauth.codes.issueCode({
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    codeChallenge: request.codeChallenge,
    resource,
    resourceImplicit: request.resource.kind === 'pick' && request.resource.implicit,
    scopes: request.scopes,
    userId: user.id,
    workspaceId: workspace.id,
    issuer: request.issuer,
    nonce: request.nonce ?? null,
    authTime: meta.authTime,
  });
  await events.record({ clientId: request.clientId, workspaceId: workspace.id, kind: 'consent_approved', requestId: meta.requestId, detail: `workspace ${slug}; scopes ${request.scopes.join(' ')}` });
  return { kind: 'redirect', location: redirectWith(request.redirectUri, { code, state: request.state, iss: request.issuer }) };
}

/** Seals a validated request for the consent form: only this server can read it, and only until it expires. */
export function sealAuthorizationRequest(deps: { oauth: Pick<AuthorizeDeps['oauth'], 'requestBox'> }, request: AuthorizationRequest, userId: string, ttlMs = 30 * 60_000): string {
  return deps.oauth.requestBox.seal(JSON.stringify({ r: request, u: userId, e: Date.now() + ttlMs }));
}

export function openAuthorizationRequest(deps: { oauth: Pick<AuthorizeDeps['oauth'], 'requestBox'> }, sealed: string, userId: string): AuthorizationRequest | 'expired' | 'invalid' {
  let parsed: { r: AuthorizationRequest; u: string; e: number };
  try {
    parsed = JSON.parse(deps.oauth.requestBox.open(sealed));
  } catch {
    return 'invalid';
  }
  if (parsed.u !== userId) return 'invalid';
  if (parsed.e < Date.now()) return 'expired';
  return parsed.r;
}
