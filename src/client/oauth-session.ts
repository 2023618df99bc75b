// One server's OAuth state for the CLI: a valid access token when asked (refreshed shortly before expiry, one
// refresh at a time across processes), sign-in when a 401 or a 403 step-up challenge calls for it and the context
// allows it, re-registration after `invalid_client`, and sign-out with revocation.
import { probeServer, discover, type Discovery } from './discovery.ts';
import type { BearerChallenge } from './www-authenticate.ts';
import { CredentialStore, normalizeServerUrl, type ClientRegistration, type Credentials, type TokenSet } from './credential-store.ts';
import { configuredClient, registerClient, type ClientConfig } from './registration.ts';
import { exchangeCode, refreshTokens, revokeToken } from './token-client.ts';
import { listenForCallback, type CallbackListener } from './loopback-callback.ts';
import { authorize, type SignInPrompt } from './authorization-flow.ts';
import { pollForDeviceToken, requestDeviceAuthorization } from './device-flow.ts';
import { ClientError, OAuthResponseError, SignInRequiredError } from './http.ts';

export interface ServerTarget extends ClientConfig {
  /** The configured name, when there is one (messages say `tollgate mcp login <name>`). */
  name?: string;
  url: string;
  scope?: string;
  callbackPort: number;
}

/** `interactive`: browser and paste-back; `browser`: only a browser (no terminal to paste into); `never`. */
export type SignInMode = 'interactive' | 'browser' | 'never';

export interface SessionOptions {
  signIn: SignInMode;
  prompt: SignInPrompt;
  /** Authorization attempts allowed in this process (step-up loops stop here). */
  maxSignIns?: number;
  signInTimeoutMs?: number;
  /** Sign in with the device authorization grant (RFC 8628): a code to enter on any device, no local callback. */
  device?: boolean;
  /** Milliseconds per second of the server's polling interval (tests shorten it; default 1000). */
  devicePollScaleMs?: number;
}

const splitScope = (s: string | undefined): string[] => (s ? s.split(/\s+/).filter(Boolean) : []);
const joinScope = (list: string[]): string | undefined => (list.length ? [...new Set(list)].join(' ') : undefined);

/** The stored registration was refused (invalid_client) after the user signed in: register again and retry once. */
class StaleClientError extends Error {
  readonly discovery: Discovery;
  constructor(discovery: Discovery) {
    super('stale client registration');
    this.discovery = discovery;
  }
}

/** Refresh this long before expiry: a minute, or a quarter of a short lifetime. */
export function refreshMarginMs(tokens: TokenSet): number {
  if (!tokens.expiresAt) return 0;
  return Math.max(1000, Math.min(60_000, (tokens.expiresAt - tokens.obtainedAt) / 4));
}

export function tokenIsFresh(tokens: TokenSet, now = Date.now()): boolean {
  return !tokens.expiresAt || tokens.expiresAt - now > refreshMarginMs(tokens);
}

export class OAuthSession {
  readonly store: CredentialStore;
  readonly target: ServerTarget;
  private readonly options: SessionOptions;
  private signIns = 0;
  /** A sign-in under way in this process: concurrent requests (the proxy) wait for it instead of starting another. */
  private pendingSignIn: Promise<Credentials> | undefined;
  /** Access tokens this process got by refreshing: one of them refused means refreshing again will not help. */
  private readonly refreshed = new Set<string>();

  constructor(store: CredentialStore, target: ServerTarget, options: SessionOptions) {
    this.store = store;
    this.target = { ...target, url: normalizeServerUrl(target.url) };
    this.options = options;
  }

  get label(): string {
    return this.target.name ? `"${this.target.name}" (${this.target.url})` : this.target.url;
  }

  get loginCommand(): string {
    return this.target.name ? `tollgate mcp login ${this.target.name}` : `tollgate mcp connect ${this.target.url}`;
  }

  private get progress() {
    return this.options.prompt.progress;
  }

  async credentials(): Promise<Credentials | undefined> {
    return this.store.readCredentials(this.target.url);
  }

  /** A usable access token (refreshed first when it is about to expire), or undefined. */
  async accessToken(): Promise<string | undefined> {
    const c = await this.credentials();
    if (!c?.tokens) return undefined;
    if (tokenIsFresh(c.tokens)) return c.tokens.accessToken;
    return this.refresh(undefined);
  }

  /**
   * Refreshes under the server's lock. With `staleToken` (the one a 401 refused), a token that differs from it
   * already on disk is taken as is: another process refreshed meanwhile (refresh tokens are single-use).
   */
  async refresh(staleToken: string | undefined): Promise<string | undefined> {
    return this.store.withLock(this.target.url, async () => {
      const c = await this.credentials();
      if (!c?.tokens) return undefined;
      if (staleToken ? c.tokens.accessToken !== staleToken : tokenIsFresh(c.tokens)) return c.tokens.accessToken;
      if (!c.tokens.refreshToken || !c.client) return undefined;
      this.progress.step('Refreshing the access token');
      try {
        const tokens = await refreshTokens({ metadata: c.authorizationServer.metadata, client: c.client, refreshToken: c.tokens.refreshToken, resource: c.resource });
        tokens.scope ??= c.tokens.scope;
        await this.store.writeCredentials({ ...c, tokens });
        this.refreshed.add(tokens.accessToken);
        return tokens.accessToken;
      } catch (err) {
        if (!(err instanceof OAuthResponseError)) throw err;
        if (err.error === 'invalid_client') {
          // RFC 6749 §5.2: the server no longer knows this client (deleted, expired): register again at next sign-in.
          const keep = c.client.source === 'pre-registered' ? c.client : undefined;
          await this.store.writeCredentials({ ...c, client: keep, tokens: undefined });
          if (keep) throw new ClientError(`${this.label}: the authorization server refused the configured client (${err.description ?? 'invalid_client'}); check --client-id/--client-secret`);
          return undefined;
        }
        if (err.error === 'invalid_grant' || err.status === 400 || err.status === 401) {
          // Expired, revoked or already used: the grant is gone; a new sign-in is needed.
          await this.store.writeCredentials({ ...c, tokens: undefined });
          return undefined;
        }
        throw err;
      } finally {
        this.progress.stop();
      }
    });
  }

  private canSignIn(): boolean {
    if ((this.options.maxSignIns ?? 3) <= this.signIns) return false;
    return this.options.signIn !== 'never';
  }

  private signInRequired(why: string): SignInRequiredError {
    return new SignInRequiredError(`${why}: run \`${this.loginCommand}\``, this.target.name);
  }

  /** After a 401: a refreshed token, else a new sign-in when allowed. True when a retry has a new token. */
  async handleUnauthorized(challenge: BearerChallenge | undefined, staleToken: string | undefined): Promise<boolean> {
    // A token refused right after a refresh (the server moved to another authorization server, say) calls for a
    // new sign-in, which discovers again, rather than another refresh.
    if (staleToken && !this.refreshed.has(staleToken)) {
      const next = await this.refresh(staleToken);
      if (next && next !== staleToken) return true;
    }
    if (this.pendingSignIn) return this.pendingSignIn.then(() => true);
    if (!this.canSignIn()) throw this.signInRequired(staleToken ? `The sign-in to ${this.label} has expired` : `Not signed in to ${this.label}`);
    await this.signInOnceAtATime(challenge, false);
    return true;
  }

  /** After a 403 `insufficient_scope`: sign in again asking for more, unless that would not change anything. */
  async handleInsufficientScope(challenge: BearerChallenge | undefined): Promise<boolean> {
    const c = await this.credentials();
    const have = new Set([...splitScope(c?.requestedScope), ...splitScope(c?.tokens?.scope)]);
    const needed = splitScope(challenge?.scope);
    // MCP "Scope Challenge Handling": re-authorize for new scopes only; the same demand again means it will not work.
    if (!needed.length || needed.every((s) => have.has(s))) return false;
    if (this.pendingSignIn) return this.pendingSignIn.then(() => true);
    if (!this.canSignIn()) throw this.signInRequired(`${this.label} needs more permissions (${needed.join(' ')})`);
    await this.signInOnceAtATime(challenge, true);
    return true;
  }

  private signInOnceAtATime(challenge: BearerChallenge | undefined, stepUp: boolean): Promise<Credentials> {
    this.pendingSignIn ??= this.signIn(challenge, { stepUp }).finally(() => (this.pendingSignIn = undefined));
    return this.pendingSignIn;
  }

  /** The scope to ask for: configured; else the challenge's, else the resource's scopes_supported; plus offline_access. */
  private scopeFor(discovery: Discovery, previous: Credentials | undefined, stepUp: boolean): string | undefined {
    if (this.target.scope) return this.target.scope;
    const suggested = splitScope(discovery.challenge?.scope ?? discovery.protectedResource?.scopesSupported?.join(' '));
    // SEP-2350: a re-authorization asks for the union of what was asked before and what is challenged now.
    const before = stepUp || previous?.issuer === discovery.authorizationServer.issuer ? splitScope(previous?.requestedScope) : [];
    const list = [...before, ...suggested];
    // SEP-2207: ask for offline_access (to get a refresh token) where the authorization server lists it.
    if (list.length && discovery.authorizationServer.metadata.scopes_supported?.includes('offline_access')) list.push('offline_access');
    return joinScope(list);
  }

  private async clientFor(previous: Credentials | undefined, discovery: Discovery, listener: CallbackListener): Promise<ClientRegistration> {
    const metadata = discovery.authorizationServer.metadata;
    const configured = configuredClient(this.target, metadata, listener.redirectUri);
    const stored = previous?.client;
    if (configured) {
      // The secret method found to work for this pre-registered client last time (see postForm) is used again.
      const same = stored?.source === 'pre-registered' && stored.clientId === configured.clientId && stored.clientSecret === configured.clientSecret;
      return same ? { ...configured, authMethod: stored.authMethod } : configured;
    }
    if (stored?.source === 'dynamic' && stored.redirectUris.includes(listener.redirectUri)) return stored;
    this.progress.step('Registering with the authorization server');
    try {
      return await registerClient(metadata, listener.redirectUri);
    } finally {
      this.progress.stop();
    }
  }

  /** The full sign-in: discovery, registration, authorization, code exchange; saves the result. */
  async signIn(challenge?: BearerChallenge, opts: { stepUp?: boolean } = {}): Promise<Credentials> {
    this.signIns++;
    try {
      return await this.signInOnce(challenge, opts.stepUp === true);
    } catch (err) {
      if (!(err instanceof StaleClientError)) throw err;
      // RFC 6749 §5.2 invalid_client: the stored registration is gone on the server; register again, once.
      this.progress.note('The authorization server no longer knows this client; registering again.');
      return this.signInOnce(challenge, opts.stepUp === true, err.discovery);
    }
  }

  private async discover(challenge: BearerChallenge | undefined): Promise<Discovery> {
    this.progress.step(`Discovering how to sign in to ${this.target.url}`);
    try {
      let status: number | undefined;
      if (!challenge) ({ status, challenge } = await probeServer(this.target.url));
      const found = await discover(this.target.url, challenge);
      if (status !== undefined && status < 300 && !found.protectedResource && !found.authorizationServer.metadataUrl) {
        throw new ClientError(`${this.target.url} answered without asking for authorization (${status}) and publishes no OAuth metadata: there is nothing to sign in to`);
      }
      return found;
    } finally {
      this.progress.stop();
    }
  }

  private async signInOnce(challenge: BearerChallenge | undefined, stepUp: boolean, known?: Discovery): Promise<Credentials> {
    const url = this.target.url;
    const discovery = known ?? (await this.discover(challenge));
    const as = discovery.authorizationServer;
    let previous = await this.credentials();
    if (previous && previous.issuer !== as.issuer) {
      // Credentials are bound to their issuer: a server that moved to another authorization server starts over.
      this.progress.note(`${this.label} now uses the authorization server ${as.issuer} (was ${previous.issuer}); signing in afresh.`);
      await this.store.deleteCredentials(url);
      previous = undefined;
    }
    const scope = this.scopeFor(discovery, previous, stepUp);
    const listener = await listenForCallback({ port: this.target.callbackPort });
    if (listener.fellBack) this.progress.note(`Port ${this.target.callbackPort} is in use; the sign-in comes back on port ${listener.port} instead.`);
    try {
      const client = await this.clientFor(previous, discovery, listener);
      if (this.options.device) {
        const device = await requestDeviceAuthorization({ metadata: as.metadata, client, scope, resource: discovery.resource });
        this.progress.note(`To sign in to ${this.label}, open ${device.verificationUri} on any device and enter the code ${device.userCode}`);
        if (device.verificationUriComplete) this.progress.note(`(or open ${device.verificationUriComplete})`);
        this.progress.step('Waiting for the approval');
        let tokens: TokenSet;
        try {
          tokens = await pollForDeviceToken({ metadata: as.metadata, client, device, progress: this.progress, intervalScale: this.options.devicePollScaleMs });
        } finally {
          this.progress.stop();
        }
        return this.saveSignIn(discovery, client, tokens, scope);
      }
      const grant = await authorize({
        metadata: as.metadata,
        client,
        listener,
        scope,
        resource: discovery.resource,
        prompt: this.options.prompt,
        timeoutMs: this.options.signInTimeoutMs,
      });
      let tokens: TokenSet;
      this.progress.step('Exchanging the code for tokens');
      try {
        tokens = await exchangeCode({ metadata: as.metadata, client, code: grant.code, redirectUri: grant.redirectUri, codeVerifier: grant.codeVerifier, resource: discovery.resource });
      } catch (err) {
        if (err instanceof OAuthResponseError && err.error === 'invalid_client' && client.source === 'dynamic' && client === previous?.client) {
          await this.store.updateCredentials(url, (c) => (c ? { ...c, client: undefined, tokens: undefined } : undefined));
          throw new StaleClientError(discovery);
        }
        throw err;
      } finally {
        this.progress.stop();
      }
      return await this.saveSignIn(discovery, client, tokens, scope);
    } finally {
      await listener.close();
    }
  }

  private async saveSignIn(discovery: Discovery, client: ClientRegistration, tokens: TokenSet, scope: string | undefined): Promise<Credentials> {
    const as = discovery.authorizationServer;
    const credentials: Credentials = {
      version: 1,
      serverUrl: this.target.url,
      issuer: as.issuer,
      resource: discovery.resource,
      authorizationServer: { metadataUrl: as.metadataUrl, metadata: as.metadata },
      client,
      tokens: { ...tokens, scope: tokens.scope ?? scope },
      requestedScope: scope,
      updatedAt: new Date().toISOString(),
    };
    await this.store.updateCredentials(this.target.url, () => credentials);
    return credentials;
  }

  /** Revokes what the server issued (RFC 7009) and deletes the local credentials. */
  async signOut(): Promise<{ hadCredentials: boolean; revoked: boolean }> {
    return this.store.withLock(this.target.url, async () => {
      const c = await this.credentials();
      if (!c) {
        await this.store.deleteCredentials(this.target.url);
        return { hadCredentials: false, revoked: false };
      }
      let revoked = false;
      if (c.tokens && c.client) {
        const metadata = c.authorizationServer.metadata;
        // Revoking the refresh token ends the grant (RFC 7009 §2.1); the access token is revoked as well for servers that keep them apart.
        if (c.tokens.refreshToken) revoked = await revokeToken({ metadata, client: c.client, token: c.tokens.refreshToken, hint: 'refresh_token' });
        const accessRevoked = await revokeToken({ metadata, client: c.client, token: c.tokens.accessToken, hint: 'access_token' });
        revoked ||= accessRevoked;
      }
      await this.store.deleteCredentials(this.target.url);
      return { hadCredentials: true, revoked };
    });
  }
}
