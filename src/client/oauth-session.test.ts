import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CredentialStore, type Credentials } from './credential-store.ts';
import { OAuthSession, tokenIsFresh } from './oauth-session.ts';
import { quietProgress } from './progress.ts';

/**
 * A token endpoint with strict refresh-token rotation (no grace window): a refresh token works once; a second use
 * is invalid_grant. `invalidClient` makes it answer invalid_client instead.
 */
async function tokenServer(opts: { invalidClient?: boolean } = {}): Promise<{ url: string; refreshes: () => number; close: () => Promise<void> }> {
  let current = 'rt-0';
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const p = new URLSearchParams(body);
      const send = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      if (opts.invalidClient) return send(401, { error: 'invalid_client', error_description: 'unknown client' });
      if (p.get('grant_type') !== 'refresh_token' || p.get('client_id') !== 'client-1' || p.get('resource') !== 'https://mcp.example/mcp') return send(400, { error: 'invalid_request' });
      if (p.get('refresh_token') !== current) return send(400, { error: 'invalid_grant', error_description: 'refresh token already used' });
      n++;
      await new Promise((r) => setTimeout(r, 50)); // a slow server widens the race
      current = `rt-${n}`;
      send(200, { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: current });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, refreshes: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

function expiredCredentials(tokenUrl: string): Credentials {
  return {
    version: 1,
    serverUrl: 'https://mcp.example/mcp',
    issuer: tokenUrl,
    resource: 'https://mcp.example/mcp',
    authorizationServer: { metadata: { issuer: tokenUrl, authorization_endpoint: `${tokenUrl}/authorize`, token_endpoint: `${tokenUrl}/token` } },
    client: { clientId: 'client-1', authMethod: 'none', redirectUris: ['http://127.0.0.1:20000/callback'], source: 'dynamic', registeredAt: 'now' },
    tokens: { accessToken: 'at-0', tokenType: 'Bearer', refreshToken: 'rt-0', expiresAt: Date.now() - 1000, obtainedAt: Date.now() - 3600_000 },
    updatedAt: 'now',
  };
}

const target = { url: 'https://mcp.example/mcp', callbackPort: 20000 };

test('tokens are refreshed shortly before they expire, not only after', () => {
  const now = Date.now();
  const t = (expiresIn: number, lifetime = 3600_000) => ({ accessToken: 'a', tokenType: 'Bearer', expiresAt: now + expiresIn, obtainedAt: now + expiresIn - lifetime });
  assert.equal(tokenIsFresh(t(3000_000)), true);
  assert.equal(tokenIsFresh(t(30_000)), false, 'within a minute of expiry');
  assert.equal(tokenIsFresh(t(20_000, 60_000)), true, 'a 60 s token refreshes in its last quarter');
  assert.equal(tokenIsFresh(t(10_000, 60_000)), false);
});

test('four processes needing a refresh at once: one refresh request, every process gets the new token', async (t) => {
  const srv = await tokenServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-refresh-'));
  t.after(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await new CredentialStore(dir).writeCredentials(expiredCredentials(srv.url));
  const script = `
    const { CredentialStore } = await import(${JSON.stringify(path.resolve(import.meta.dirname, 'credential-store.ts'))});
    const { OAuthSession } = await import(${JSON.stringify(path.resolve(import.meta.dirname, 'oauth-session.ts'))});
    const { quietProgress } = await import(${JSON.stringify(path.resolve(import.meta.dirname, 'progress.ts'))});
    const s = new OAuthSession(new CredentialStore(${JSON.stringify(dir)}), ${JSON.stringify(target)}, { signIn: 'never', prompt: { label: 'x', progress: quietProgress() } });
    process.stdout.write(String(await s.accessToken()));`;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
  const tokens = await Promise.all([run(), run(), run(), run()]);
  assert.deepEqual(tokens, ['at-1', 'at-1', 'at-1', 'at-1']);
  assert.equal(srv.refreshes(), 1);
  const saved = await new CredentialStore(dir).readCredentials(target.url);
  assert.equal(saved?.tokens?.refreshToken, 'rt-1', 'the rotated refresh token is on disk');
});

test('after invalid_client the registration is dropped (the next sign-in registers again); invalid_grant drops only the tokens', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-refresh-'));
  const bad = await tokenServer({ invalidClient: true });
  const good = await tokenServer();
  t.after(async () => {
    await bad.close();
    await good.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = new CredentialStore(dir);
  const session = new OAuthSession(store, target, { signIn: 'never', prompt: { label: 'x', progress: quietProgress() } });

  await store.writeCredentials(expiredCredentials(bad.url));
  assert.equal(await session.accessToken(), undefined);
  let saved = await store.readCredentials(target.url);
  assert.equal(saved?.client, undefined);
  assert.equal(saved?.tokens, undefined);
  await assert.rejects(session.handleUnauthorized(undefined, undefined), /run `tollgate mcp connect https:\/\/mcp\.example\/mcp`/);

  const used = expiredCredentials(good.url);
  used.tokens!.refreshToken = 'rt-stale';
  await store.writeCredentials(used);
  assert.equal(await session.accessToken(), undefined);
  saved = await store.readCredentials(target.url);
  assert.equal(saved?.client?.clientId, 'client-1', 'the client stays registered');
  assert.equal(saved?.tokens, undefined);
});
