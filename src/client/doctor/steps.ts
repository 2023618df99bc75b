// The steps real MCP clients take against a server, as reusable checks. A step returns a short note when it
// passes and throws a Divergence that says what the client would have needed when it does not.
import { randomBytes } from 'node:crypto';
import { bearerChallenge, type BearerChallenge } from '../www-authenticate.ts';
import { resourceCoversServer } from '../well-known.ts';
import { s256 } from '../pkce.ts';
import { CLIENT_PROTOCOL_VERSION } from '../http.ts';
import { describe, type Prober, type ProbeResult } from './probe.ts';

export class Divergence extends Error {}

export interface DoctorContext {
  /** The MCP server URL exactly as given. */
  url: string;
  prober: Prober;
}

export interface FlowState {
  challenge?: BearerChallenge;
  prm?: { url: string; resource: string; authorizationServers: string[]; scopesSupported?: string[] };
  issuer?: string;
  metadata?: Record<string, unknown>;
  metadataUrl?: string;
  client?: { clientId: string; clientSecret?: string; redirectUri: string };
  /** Every client registered, with its RFC 7592 management URI and token when the server gave them. */
  registrations?: { clientId: string; uri?: string; token?: string }[];
}

export interface Step {
  title: string;
  run(ctx: DoctorContext, state: FlowState): Promise<string | void>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const randomPort = (): number => 40000 + Math.floor(Math.random() * 20000);

const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: CLIENT_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'tollgate-doctor', version: '0.1.0' } },
});
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export function anonymousInitialize(ctx: DoctorContext, url = ctx.url): Promise<ProbeResult> {
  return ctx.prober.request(url, { method: 'POST', headers: mcpHeaders, body: initializeBody });
}

/**
 * What a client needs from an anonymous MCP request, whatever the method: 401 with a Bearer challenge. The challenge
 * may leave out resource_metadata (MCP: clients then try the well-known URLs); the hygiene sequence flags that.
 */
function anonymousChallenge(p: ProbeResult, what: string): BearerChallenge {
  if (p.error) throw new Divergence(`${what} → ${describe(p)}; is the server running at this URL?`);
  if (p.status >= 300 && p.status < 400) throw new Divergence(`${what} got a redirect (${describe(p)}); MCP endpoints must answer in place`);
  const hint = p.status === 403 ? ' (403 means "forbidden" and makes clients give up or re-register)' : '';
  if (p.status !== 401) throw new Divergence(`${what} → ${describe(p)}; a protected MCP endpoint answers 401${hint}`);
  const header = p.headers.get('www-authenticate');
  const challenge = bearerChallenge(header);
  if (!challenge) throw new Divergence(`${what}: 401 without a Bearer challenge (WWW-Authenticate: ${header ?? 'missing'}) (RFC 6750 §3)`);
  return challenge;
}

/** Every client starts here: an MCP request without a token must get 401 and a Bearer challenge. */
export const challengeStep: Step = {
  title: 'POST initialize without a token → 401 with a Bearer challenge',
  async run(ctx, state) {
    const challenge = anonymousChallenge(await anonymousInitialize(ctx), 'POST without a token');
    state.challenge = challenge;
    return challenge.resourceMetadata ? `resource_metadata=${challenge.resourceMetadata}${challenge.scope ? `, scope="${challenge.scope}"` : ''}` : 'no resource_metadata (clients fall back to the well-known URLs)';
  },
};

/** DESIGN / RFC 6750 §3.1 / RFC 9728 §5.1: the anonymous challenge names the metadata and carries no error code. */
export const challengeShapeStep: Step = {
  title: 'the anonymous challenge is Bearer resource_metadata="<absolute URL>" with no error code',
  async run(ctx) {
    const p = await anonymousInitialize(ctx);
    const header = p.headers.get('www-authenticate');
    const challenge = bearerChallenge(header);
    if (!challenge?.resourceMetadata) throw new Divergence(`no resource_metadata in the challenge (RFC 9728 §5.1): ${header ?? 'no WWW-Authenticate'}`);
    try {
      new URL(challenge.resourceMetadata);
    } catch {
      throw new Divergence(`resource_metadata is not an absolute URL: ${challenge.resourceMetadata}`);
    }
    // RFC 6750 §3.1: without credentials in the request, no error code (clients read one as "your token is bad").
    if (challenge.error) throw new Divergence(`an anonymous request got error="${challenge.error}"; RFC 6750 §3.1 says no error code when no token was sent`);
    return header ?? '';
  },
};

export function prmStep(mode: 'challenge-first' | 'well-known-only'): Step {
  return {
    title: mode === 'challenge-first' ? 'protected-resource metadata: the challenge URL, else path-suffixed, else root' : 'protected-resource metadata at the path-suffixed, then root, well-known URL',
    async run(ctx, state) {
      const u = new URL(ctx.url);
      const path = u.pathname.replace(/\/+$/, '');
      const candidates = [
        ...(mode === 'challenge-first' && state.challenge?.resourceMetadata ? [state.challenge.resourceMetadata] : []),
        ...(path ? [`${u.origin}/.well-known/oauth-protected-resource${path}`] : []),
        `${u.origin}/.well-known/oauth-protected-resource`,
      ];
      const tried: string[] = [];
      for (const url of [...new Set(candidates)]) {
        const p = await ctx.prober.request(url, { headers: { accept: 'application/json', 'mcp-protocol-version': CLIENT_PROTOCOL_VERSION } });
        if (p.status === 200 && p.json && typeof p.json.resource === 'string') {
          const servers = strings(p.json.authorization_servers);
          if (!servers.length) throw new Divergence(`${url} lists no authorization_servers`);
          state.prm = { url, resource: p.json.resource, authorizationServers: servers, scopesSupported: strings(p.json.scopes_supported) };
          return `${url} → resource ${p.json.resource}`;
        }
        tried.push(`${url} → ${describe(p)}`);
        if (p.status >= 300 && p.status < 400) throw new Divergence(`${url} redirects (${describe(p)}); metadata must be served in place`);
      }
      throw new Divergence(`no protected-resource metadata: ${tried.join('; ')}`);
    },
  };
}

export function resourceStep(exact: boolean): Step {
  return {
    title: exact ? 'PRM resource is byte-identical to the URL the client used (RFC 9728 §3.3)' : 'PRM resource covers the URL (same origin, same path or a parent)',
    async run(ctx, state) {
      const resource = state.prm!.resource;
      if (exact ? resource !== ctx.url : !resourceCoversServer(resource, ctx.url)) throw new Divergence(`resource is ${JSON.stringify(resource)}, the client used ${JSON.stringify(ctx.url)}`);
      return resource;
    },
  };
}

export type MetadataStrategy = 'spec' | 'root-only' | 'path-aware-then-root';

function metadataCandidates(issuer: string, strategy: MetadataStrategy): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  const root = `${u.origin}/.well-known/oauth-authorization-server`;
  if (strategy === 'root-only') return [root];
  const spec = path
    ? [`${u.origin}/.well-known/oauth-authorization-server${path}`, `${u.origin}/.well-known/openid-configuration${path}`, `${u.origin}${path}/.well-known/openid-configuration`]
    : [root, `${u.origin}/.well-known/openid-configuration`];
  return strategy === 'path-aware-then-root' && path ? [...spec, root] : spec;
}

const strategyTitle: Record<MetadataStrategy, string> = {
  spec: 'authorization-server metadata (RFC 8414 path insertion, then OpenID discovery)',
  'root-only': 'authorization-server metadata at the root /.well-known/oauth-authorization-server only',
  'path-aware-then-root': 'authorization-server metadata (path-aware variants, then the root)',
};

/** Finds the metadata the way the client does and checks the issuer is byte-identical to the PRM's. */
export function metadataStep(strategy: MetadataStrategy): Step {
  return {
    title: strategyTitle[strategy] + '; issuer byte-identical to PRM authorization_servers[0]',
    async run(ctx, state) {
      const issuer = state.prm!.authorizationServers[0];
      state.issuer = issuer;
      const tried: string[] = [];
      for (const url of metadataCandidates(issuer, strategy)) {
        const p = await ctx.prober.request(url, { headers: { accept: 'application/json', 'mcp-protocol-version': CLIENT_PROTOCOL_VERSION } });
        if (p.status === 200 && p.json) {
          // RFC 8414 §3.3: the issuer in the document is identical to the one the URL was built from.
          if (p.json.issuer !== issuer) throw new Divergence(`${url} says issuer ${JSON.stringify(p.json.issuer)}, PRM says ${JSON.stringify(issuer)} (byte-for-byte)`);
          for (const k of ['authorization_endpoint', 'token_endpoint']) if (!str(p.json[k])) throw new Divergence(`${url} has no ${k}`);
          // MCP 2025-11-25: without S256 advertised, clients must refuse.
          if (!strings(p.json.code_challenge_methods_supported).includes('S256')) throw new Divergence(`${url} does not list S256 in code_challenge_methods_supported`);
          state.metadata = p.json;
          state.metadataUrl = url;
          return url;
        }
        tried.push(`${url} → ${describe(p)}`);
        if (p.status >= 500 || p.error) break;
      }
      throw new Divergence(`not found: ${tried.join('; ')}`);
    },
  };
}

/** Claude clients use a client ID metadata document only when the server also lists "none". */
export const cimdAdvertisementStep: Step = {
  title: 'client ID metadata documents, when advertised, come with "none" in token_endpoint_auth_methods_supported',
  async run(_ctx, state) {
    const m = state.metadata!;
    if (m.client_id_metadata_document_supported !== true) return 'not advertised (clients register dynamically)';
    if (!strings(m.token_endpoint_auth_methods_supported).includes('none')) throw new Divergence('client_id_metadata_document_supported is true but "none" is not in token_endpoint_auth_methods_supported, so Claude clients skip metadata documents');
    return 'advertised with "none"';
  },
};

export interface RegistrationShape {
  body: Record<string, unknown>;
  /** The redirect URI the client then uses in its authorization request (may differ from every registered one). */
  authorizeRedirectUri: string;
  origin?: string;
}

/** RFC 7591 registration with the client's real request body. */
export function registrationStep(label: string, shape: () => RegistrationShape): Step {
  return {
    title: `dynamic client registration as ${label}`,
    async run(ctx, state) {
      const endpoint = str(state.metadata!.registration_endpoint);
      if (!endpoint) throw new Divergence('the metadata has no registration_endpoint (and this client cannot be pre-registered by the user)');
      const { body, authorizeRedirectUri, origin } = shape();
      const p = await ctx.prober.request(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify(body),
        cache: false,
      });
      if (p.status !== 201 && p.status !== 200) throw new Divergence(`POST ${endpoint} with redirect_uris ${JSON.stringify(body.redirect_uris)} → ${describe(p)}`);
      const clientId = str(p.json?.client_id);
      if (!clientId) throw new Divergence(`registration answered ${p.status} without a client_id`);
      state.client = { clientId, clientSecret: str(p.json?.client_secret), redirectUri: authorizeRedirectUri };
      (state.registrations ??= []).push({ clientId, ...managementOf(endpoint, p.json) });
      const registered = strings(p.json?.redirect_uris);
      const dropped = strings(body.redirect_uris).filter((u) => registered.length && !registered.includes(u));
      return `client_id ${clientId.length > 40 ? clientId.slice(0, 37) + '…' : clientId}${dropped.length ? ` (server dropped ${dropped.join(', ')})` : ''}`;
    },
  };
}

/** RFC 7592 §3: where and with what the client can delete itself; the token goes only to the registration's own origin. */
function managementOf(endpoint: string, body: Record<string, unknown> | undefined): { uri?: string; token?: string } {
  const uri = str(body?.registration_client_uri);
  const token = str(body?.registration_access_token);
  if (!uri || !token) return {};
  try {
    if (new URL(uri).origin !== new URL(endpoint).origin) return {};
  } catch {
    return {};
  }
  return { uri, token };
}

/**
 * Deletes the clients a sequence registered (RFC 7592 §2.3), where the server offered it. Those it could not delete
 * keep the "(tollgate doctor)" name, by which Tollgate garbage-collects them early.
 */
export async function deleteRegistrations(ctx: DoctorContext, state: FlowState): Promise<{ made: number; deleted: number }> {
  const registrations = state.registrations ?? [];
  let deleted = 0;
  for (const r of registrations) {
    if (!r.uri || !r.token) continue;
    const p = await ctx.prober.request(r.uri, { method: 'DELETE', headers: { authorization: `Bearer ${r.token}` }, cache: false });
    if (p.status === 204 || p.status === 200) deleted++;
  }
  return { made: registrations.length, deleted };
}

/** Registers twice in a row, as clients that register on every connection do. */
export function repeatRegistrationStep(label: string, shape: () => RegistrationShape): Step {
  const once = registrationStep(label, shape);
  return {
    title: `registers again on the next connection (${label} registers every time)`,
    async run(ctx, state) {
      const first = state.client;
      await once.run(ctx, state);
      if (first && first.clientId === state.client?.clientId) return 'the same client_id again';
      return 'a second registration succeeds';
    },
  };
}

export interface AuthorizeShape {
  redirectUri?: string;
  /** undefined: the scope a spec client picks (challenge, else PRM scopes_supported); null: none. */
  scope?: string | null;
  /** Send `resource` (the PRM value). */
  resource: boolean;
}

function specScope(state: FlowState): string | undefined {
  const s = state.challenge?.scope ?? state.prm?.scopesSupported?.join(' ');
  const list = s ? s.split(/\s+/).filter(Boolean) : [];
  if (list.length && strings(state.metadata?.scopes_supported).includes('offline_access')) list.push('offline_access');
  return list.length ? [...new Set(list)].join(' ') : undefined;
}

/**
 * The authorization request the client sends the user to. Without a signed-in user the server should show a
 * sign-in (or consent) page, or redirect to one; an error page or an error redirect back to the client is a
 * divergence.
 */
export function authorizeStep(describeRequest: string, shape: AuthorizeShape): Step {
  return {
    title: `authorization request ${describeRequest}`,
    async run(ctx, state) {
      const client = state.client!;
      const redirectUri = shape.redirectUri ?? client.redirectUri;
      const url = new URL(str(state.metadata!.authorization_endpoint)!);
      const scope = shape.scope === null ? undefined : (shape.scope ?? specScope(state));
      const verifier = randomBytes(32).toString('base64url');
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: redirectUri,
        code_challenge: s256(verifier),
        code_challenge_method: 'S256',
        state: randomBytes(12).toString('base64url'),
      };
      if (scope) params.scope = scope;
      if (shape.resource && state.prm) params.resource = state.prm.resource;
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const p = await ctx.prober.request(url.href, { headers: { accept: 'text/html' }, cache: false });
      if (p.error) throw new Divergence(`GET ${url.origin}${url.pathname} → ${describe(p)}`);
      if (p.status >= 300 && p.status < 400) {
        const location = p.headers.get('location') ?? '';
        if (location.startsWith(redirectUri.split('?')[0])) {
          const back = new URL(location, url).searchParams;
          if (back.get('code') && !back.get('error')) return 'approved at once (a code without a sign-in page)';
          throw new Divergence(`the server sent the user straight back with error=${back.get('error') ?? '?'}${back.get('error_description') ? ` (${back.get('error_description')})` : ''} for ${paramsSummary(params)}`);
        }
        return `redirects to sign-in (${p.status} → ${new URL(location, url).pathname})`;
      }
      if (p.status === 200) return 'shows a sign-in page';
      throw new Divergence(`GET ${url.origin}${url.pathname} (${paramsSummary(params)}) → ${describe(p)}`);
    },
  };
}

const paramsSummary = (p: Record<string, string>) => `redirect_uri=${p.redirect_uri}${p.scope ? `, scope="${p.scope}"` : ', no scope'}${p.resource ? `, resource=${p.resource}` : ', no resource'}`;

/** RFC 6749 §5.2: a bad code is a 400 JSON error, which clients show; HTML or 500 leaves them guessing. */
export function tokenErrorStep(origin?: string): Step {
  return {
    title: origin ? `token endpoint errors reach a browser (CORS for ${origin})` : 'token endpoint answers a bad code with 400 {"error":"invalid_grant"}',
    async run(ctx, state) {
      const endpoint = str(state.metadata!.token_endpoint)!;
      const client = state.client!;
      const body = new URLSearchParams({ grant_type: 'authorization_code', code: 'doctor-invalid-code', redirect_uri: client.redirectUri, code_verifier: randomBytes(32).toString('base64url'), client_id: client.clientId });
      if (client.clientSecret) body.set('client_secret', client.clientSecret);
      const p = await ctx.prober.request(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(origin ? { origin } : {}) }, body: body.toString(), cache: false });
      if (p.status !== 400 || p.json?.error !== 'invalid_grant') throw new Divergence(`POST ${endpoint} with an invalid code → ${describe(p)}`);
      if (origin) allowsOrigin(p, origin, endpoint);
      return '400 invalid_grant';
    },
  };
}

function allowsOrigin(p: ProbeResult, origin: string, what: string): void {
  const acao = p.headers.get('access-control-allow-origin');
  if (acao !== '*' && acao !== origin) throw new Divergence(`${what}: no Access-Control-Allow-Origin for ${origin} (got ${acao ?? 'none'}), so a browser cannot read it`);
}

/** A CORS preflight (Fetch standard) as a browser sends it before a non-simple request. */
export function preflightStep(title: string, target: (ctx: DoctorContext, state: FlowState) => string, method: string, requestHeaders: string[], origin: string): Step {
  return {
    title,
    async run(ctx, state) {
      const url = target(ctx, state);
      const p = await ctx.prober.request(url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders.join(',') },
      });
      if (p.status < 200 || p.status >= 300) throw new Divergence(`OPTIONS ${url} → ${describe(p)}`);
      allowsOrigin(p, origin, `OPTIONS ${url}`);
      const allowed = (p.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(',').map((s) => s.trim());
      // Fetch: "*" does not cover Authorization; it has to be named.
      const missing = requestHeaders.filter((h) => !allowed.includes(h) && !(allowed.includes('*') && h !== 'authorization'));
      if (missing.length) throw new Divergence(`OPTIONS ${url}: Access-Control-Allow-Headers (${allowed.join(', ') || 'none'}) lacks ${missing.join(', ')}`);
      const methods = (p.headers.get('access-control-allow-methods') ?? '').toUpperCase();
      if (methods && !methods.includes(method) && !methods.includes('*')) throw new Divergence(`OPTIONS ${url}: Access-Control-Allow-Methods (${methods}) lacks ${method}`);
      return 'allowed';
    },
  };
}

/** A simple cross-origin GET (what a browser falls back to): the answer must carry Access-Control-Allow-Origin. */
export function corsGetStep(title: string, target: (ctx: DoctorContext, state: FlowState) => string, origin: string): Step {
  return {
    title,
    async run(ctx, state) {
      const url = target(ctx, state);
      const p = await ctx.prober.request(url, { headers: { origin, accept: 'application/json' } });
      if (p.status !== 200) throw new Divergence(`GET ${url} from ${origin} → ${describe(p)}`);
      allowsOrigin(p, origin, `GET ${url}`);
      return 'readable cross-origin';
    },
  };
}

/** The 401 must expose WWW-Authenticate to a browser, or browser clients cannot find the metadata. */
export function exposedChallengeStep(): Step {
  return {
    title: 'the 401 carries CORS headers exposing WWW-Authenticate (Access-Control-Expose-Headers)',
    async run(ctx) {
      const origin = new URL(ctx.url).origin;
      const p = await ctx.prober.request(ctx.url, { method: 'POST', headers: { ...mcpHeaders, origin }, body: initializeBody });
      if (p.status !== 401) throw new Divergence(`POST with Origin ${origin} → ${describe(p)}`);
      allowsOrigin(p, origin, 'the 401');
      const exposed = (p.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      if (!exposed.split(',').map((s) => s.trim()).some((h) => h === 'www-authenticate' || h === '*')) throw new Divergence(`Access-Control-Expose-Headers is ${JSON.stringify(p.headers.get('access-control-expose-headers') ?? '')}; add WWW-Authenticate`);
      return 'exposed';
    },
  };
}

/** Anonymous GET (the SSE stream) and DELETE (end of session) are challenged too: auth comes before method dispatch. */
export const otherMethodsStep: Step = {
  title: 'GET and DELETE without a token → 401 as well (auth before method dispatch)',
  async run(ctx) {
    for (const method of ['GET', 'DELETE']) {
      // Judged as the POST is: the same fault (say, no resource_metadata) is not a divergence on one and not the other.
      anonymousChallenge(await ctx.prober.request(ctx.url, { method, headers: { accept: 'application/json, text/event-stream' } }), `${method} without a token`);
    }
    return '401, 401';
  },
};

export const invalidTokenStep: Step = {
  title: 'a bad token → 401 with error="invalid_token" (RFC 6750 §3.1)',
  async run(ctx) {
    const p = await ctx.prober.request(ctx.url, { method: 'POST', headers: { ...mcpHeaders, authorization: 'Bearer doctor-not-a-token' }, body: initializeBody });
    const c = bearerChallenge(p.headers.get('www-authenticate'));
    if (p.status !== 401 || c?.error !== 'invalid_token') throw new Divergence(`got ${describe(p)} with WWW-Authenticate: ${p.headers.get('www-authenticate') ?? 'none'}`);
    return 'invalid_token';
  },
};

export const trailingSlashStep: Step = {
  title: 'the URL with and without a trailing slash is the same endpoint (no redirect)',
  async run(ctx) {
    const u = new URL(ctx.url);
    if (u.pathname === '/') return 'root URL: nothing to vary';
    u.pathname = u.pathname.endsWith('/') ? u.pathname.replace(/\/+$/, '') : u.pathname + '/';
    const p = await anonymousInitialize(ctx, u.href);
    if (p.status !== 401) throw new Divergence(`POST ${u.href} → ${describe(p)}`);
    return `${u.pathname} → 401`;
  },
};

export const unknownWellKnownStep: Step = {
  title: 'an unknown /.well-known/ URL → 404 (clients probe several)',
  async run(ctx) {
    const url = `${new URL(ctx.url).origin}/.well-known/tollgate-doctor-${randomBytes(4).toString('hex')}`;
    const p = await ctx.prober.request(url, { headers: { accept: 'application/json' } });
    if (p.status !== 404) throw new Divergence(`GET ${url} → ${describe(p)}`);
    return '404';
  },
};

/** RFC 9207: an error redirect carries iss, byte-identical to the issuer (checked with an unsupported response_type). */
export const issOnErrorStep: Step = {
  title: 'error redirects carry iss, byte-identical to the issuer (RFC 9207)',
  async run(ctx, state) {
    const m = state.metadata!;
    const url = new URL(str(m.authorization_endpoint)!);
    const client = state.client!;
    for (const [k, v] of Object.entries({ response_type: 'doctor_unsupported', client_id: client.clientId, redirect_uri: client.redirectUri, state: 'doctor' })) url.searchParams.set(k, v);
    const p = await ctx.prober.request(url.href, { cache: false });
    const location = p.headers.get('location');
    if (p.status < 300 || p.status >= 400 || !location?.startsWith(client.redirectUri)) {
      if (m.authorization_response_iss_parameter_supported !== true) return 'iss not advertised; error not redirected';
      throw new Divergence(`response_type=doctor_unsupported → ${describe(p)}; RFC 6749 §4.1.2.1 redirects the error back to a valid redirect_uri`);
    }
    const back = new URL(location).searchParams;
    const iss = back.get('iss');
    if (iss === null) {
      if (m.authorization_response_iss_parameter_supported === true) throw new Divergence('the metadata promises iss (authorization_response_iss_parameter_supported) but the error redirect has none');
      return `error=${back.get('error')} (iss not advertised)`;
    }
    if (iss !== state.issuer) throw new Divergence(`iss=${JSON.stringify(iss)} differs from the issuer ${JSON.stringify(state.issuer)}`);
    return `error=${back.get('error')}, iss identical`;
  },
};
