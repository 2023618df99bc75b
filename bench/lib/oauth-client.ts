// How the harness gets a peer's access token before the load: as an MCP client does, over HTTP, against the peer's
// own authorization server. The unauthenticated request's 401 challenge names the protected-resource metadata
// (RFC 9728), that names the authorization server, whose metadata (RFC 8414) gives the endpoints; then dynamic client
// registration (RFC 7591, a public native client), the authorization request with PKCE S256 (RFC 7636) and the
// resource indicator (RFC 8707), and the code's redemption at the token endpoint. The authorization step follows the
// server's redirects with the cookies it sets, signing in first where the peer needs a session (`signIn`), until it
// is sent back to the loopback redirect URI with the code. Loopback only: nothing here talks to another host.
import { createHash, randomBytes } from 'node:crypto';

export interface OAuthPeer {
  /** The MCP endpoint (the protected resource). */
  resource: string;
  scope: string;
  /** Where the bench user signs in first, if the authorization server needs a session: a form or JSON POST. */
  signIn?: { url: string; body: string; contentType: string };
  /** MCP request headers for the unauthenticated probe. */
  headers?: Record<string, string>;
  body?: string;
}

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

function loopbackOnly(url: string): URL {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error(`the bench only talks to loopback, not ${u.origin}`);
  return u;
}

/** A cookie jar of name=value pairs, enough for one sign-in and authorization on one host. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${text.slice(0, 400)}`);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${what}: not JSON: ${text.slice(0, 200)}`);
  }
}

/** RFC 8414 §3.1: the metadata URL inserts the well-known path between the issuer's host and its path. */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const p = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [`${u.origin}/.well-known/oauth-authorization-server${p}`, `${u.origin}/.well-known/openid-configuration${p}`, `${u.origin}${p}/.well-known/openid-configuration`];
}

/** The resource_metadata parameter of a Bearer challenge (RFC 9728 §5.1), if any. */
export function resourceMetadataFromChallenge(header: string | null): string | undefined {
  return header ? /resource_metadata="([^"]+)"/.exec(header)?.[1] : undefined;
}

async function discover(peer: OAuthPeer): Promise<Record<string, unknown>> {
  const probe = await fetch(loopbackOnly(peer.resource), { method: 'POST', headers: peer.headers ?? { 'content-type': 'application/json' }, body: peer.body ?? '{}' });
  await probe.arrayBuffer();
  if (probe.status !== 401) throw new Error(`an unauthenticated MCP request got HTTP ${probe.status}, not 401`);
  const r = new URL(peer.resource);
  const prmUrl = resourceMetadataFromChallenge(probe.headers.get('www-authenticate')) ?? `${r.origin}/.well-known/oauth-protected-resource${r.pathname}`;
  const prm = await json(await fetch(loopbackOnly(prmUrl)), 'protected-resource metadata');
  const issuer = (prm.authorization_servers as string[] | undefined)?.[0];
  if (!issuer) throw new Error('the protected-resource metadata names no authorization server');
  for (const url of metadataUrls(issuer)) {
    const res = await fetch(loopbackOnly(url));
    if (res.ok) return json(res, 'authorization-server metadata');
    await res.arrayBuffer();
  }
  throw new Error(`no authorization-server metadata for ${issuer}`);
}

/** Registers a client, authorizes and redeems the code; returns the access token. */
export async function obtainAccessToken(peer: OAuthPeer): Promise<string> {
  const as = await discover(peer);
  const jar = new Jar();
  if (peer.signIn) {
    const res = await fetch(loopbackOnly(peer.signIn.url), { method: 'POST', headers: { 'content-type': peer.signIn.contentType, origin: new URL(peer.signIn.url).origin }, body: peer.signIn.body, redirect: 'manual' });
    await res.arrayBuffer();
    if (res.status >= 400) throw new Error(`sign-in: HTTP ${res.status}`);
    jar.take(res);
  }
  const registration = await json(
    await fetch(loopbackOnly(as.registration_endpoint as string), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Tollgate bench client', application_type: 'native', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', scope: peer.scope }),
    }),
    'client registration',
  );
  const clientId = registration.client_id as string;
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(loopbackOnly(as.authorization_endpoint as string));
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: peer.scope, state, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', resource: peer.resource })) {
    authorize.searchParams.set(k, v);
  }
  let next = authorize.toString();
  let code: string | undefined;
  for (let hop = 0; hop < 12 && !code; hop++) {
    const res = await fetch(loopbackOnly(next), { headers: { cookie: jar.header(), accept: 'text/html,application/json' }, redirect: 'manual' });
    jar.take(res);
    const text = await res.text();
    // Some servers answer a fetch-style authorize call with JSON naming the redirect instead of a 302.
    const location = res.headers.get('location') ?? (res.ok ? ((JSON.parse(text.startsWith('{') ? text : '{}') as { url?: string; redirect?: string }).url ?? undefined) : undefined);
    if (!location) throw new Error(`authorization: HTTP ${res.status} with no redirect: ${text.slice(0, 300)}`);
    const target = new URL(location, next);
    if (target.toString().startsWith(REDIRECT_URI)) {
      if (target.searchParams.get('state') !== state) throw new Error('authorization: the state came back changed');
      const error = target.searchParams.get('error');
      if (error) throw new Error(`authorization: ${error}: ${target.searchParams.get('error_description') ?? ''}`);
      code = target.searchParams.get('code') ?? undefined;
      if (!code) throw new Error('authorization: redirected back with no code');
    } else {
      next = target.toString();
    }
  }
  if (!code) throw new Error('authorization: too many redirects');
  const token = await json(
    await fetch(loopbackOnly(as.token_endpoint as string), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource: peer.resource }).toString(),
    }),
    'token request',
  );
  if (typeof token.access_token !== 'string') throw new Error('token request: no access_token in the answer');
  return token.access_token;
}
