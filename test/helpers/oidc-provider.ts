// A real OpenID Connect provider (node-oidc-provider from npm) in the test process, on a free loopback port, with
// two confidential clients (one gets RS256 id_tokens, the other ES256) and its own sign-in and consent interaction,
// which `signInAtProvider` drives over HTTP like a browser. The front server lets a test rotate the provider's keys
// (a new instance with new keys on the same issuer), take it down, count JWKS fetches, and answer one token
// request itself with an id_token signed by the provider's real key (a token issued to another client, a stale
// nonce), as an attacker who substitutes tokens would.
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, createPrivateKey, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { signJwt } from '../../src/oauth/jwt.ts';
import { browserRequest, CookieJar, parseForms } from './oauth-flow.ts';

export interface ProviderAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface ProviderClient {
  client_id: string;
  client_secret: string;
  alg: 'RS256' | 'ES256';
}

export interface TestProvider {
  readonly issuer: string;
  readonly clients: readonly [ProviderClient, ProviderClient];
  /** How many times the JWKS was fetched. */
  jwksFetches: number;
  /** Replaces the provider with one that signs with new keys (new kids); the old keys are no longer published. */
  rotateKeys(): void;
  /** While down, every connection is dropped. */
  down: boolean;
  /** The next token request is answered with this body instead of the provider's (once). */
  answerNextTokenRequest(body: Record<string, unknown>): void;
  /** An id_token signed with the provider's current key for `alg`. */
  mintIdToken(alg: 'RS256' | 'ES256', claims: Record<string, unknown>): string;
  stop(): Promise<void>;
}

function newKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' },
  ];
}

export async function startTestProvider(opts: { accounts: Record<string, ProviderAccount>; redirectUris: (clientId: string) => string[] }): Promise<TestProvider> {
  const clients: [ProviderClient, ProviderClient] = [
    { client_id: 'tollgate-rs', client_secret: randomBytes(16).toString('hex'), alg: 'RS256' },
    { client_id: 'tollgate-es', client_secret: randomBytes(16).toString('hex'), alg: 'ES256' },
  ];
  let keys = newKeys();
  let current: Provider;
  let override: Record<string, unknown> | undefined;
  const server: Server = createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    if (req.url?.startsWith('/jwks')) state.jwksFetches++;
    if (override && req.method === 'POST' && req.url?.startsWith('/token')) {
      const body = override;
      override = undefined;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
      return;
    }
    current.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = () =>
    new Provider(issuer, {
      clients: clients.map((c) => ({
        client_id: c.client_id,
        client_secret: c.client_secret,
        redirect_uris: opts.redirectUris(c.client_id),
        id_token_signed_response_alg: c.alg,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      })),
      jwks: { keys: keys as never },
      scopes: ['openid', 'email', 'profile', 'groups'],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      findAccount: async (_ctx: unknown, id: string) => {
        const account = opts.accounts[id];
        if (!account) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, ...account }) };
      },
    } as never);
  current = build();

  const state: TestProvider = {
    issuer,
    clients,
    jwksFetches: 0,
    down: false,
    rotateKeys() {
      keys = newKeys();
      current = build();
    },
    answerNextTokenRequest(body) {
      override = body;
    },
    mintIdToken(alg, claims) {
      const jwk = keys.find((k) => k.alg === alg)!;
      const now = Math.floor(Date.now() / 1000);
      return signJwt({ alg, kid: jwk.kid, typ: 'JWT' }, { iss: issuer, iat: now, exp: now + 300, ...claims }, createPrivateKey({ key: jwk as never, format: 'jwk' }));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/**
 * At the provider, from its authorization URL: signs in as `login` on its sign-in page and approves on its consent
 * page (or aborts there: `deny`), following redirects until one leaves the provider; returns that URL (the relying
 * party's callback).
 */
export async function signInAtProvider(providerUrl: string, login: string, options: { deny?: boolean; jar?: CookieJar } = {}): Promise<string> {
  const jar = options.jar ?? new CookieJar();
  const origin = new URL(providerUrl).origin;
  let url = providerUrl;
  for (let hop = 0; hop < 12; hop++) {
    const res = await browserRequest(jar, url);
    if (res.location) {
      if (new URL(res.location).origin !== origin) return res.location;
      url = res.location;
      continue;
    }
    if (res.status !== 200) throw new Error(`provider answered ${res.status} at ${url}: ${res.body.slice(0, 300)}`);
    const form = parseForms(res.body, url)[0];
    if (!form) throw new Error(`no form at ${url}: ${res.body.slice(0, 300)}`);
    if (options.deny) {
      const abort = `${new URL(url).pathname}/abort`;
      const r = await browserRequest(jar, new URL(abort, origin).toString());
      if (!r.location) throw new Error('abort did not redirect');
      url = r.location;
      if (new URL(url).origin !== origin) return url;
      continue;
    }
    const fields = form.fields.prompt === 'login' ? { ...form.fields, login, password: 'any' } : form.fields;
    const posted = await browserRequest(jar, form.action, { form: fields });
    if (!posted.location) throw new Error(`provider form did not redirect (${posted.status}): ${posted.body.slice(0, 300)}`);
    if (new URL(posted.location).origin !== origin) return posted.location;
    url = posted.location;
  }
  throw new Error('too many redirects at the provider');
}
