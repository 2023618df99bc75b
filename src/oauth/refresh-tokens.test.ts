import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { sha256Hex } from '../util/ids.ts';
import { oauthModule, type OAuth } from './index.ts';
import type { OAuthTables } from './tables.ts';

forEachDialect('refresh-token rotation', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let oauth: OAuth;
  let newGrant: () => Promise<{ grantId: string; token: string }>;
  const config = loadConfig({ env: { TOLLGATE_REFRESH_GRACE_SECONDS: '10' } });
  before(async () => {
    store = await createTestStore(dialect);
    oauth = oauthModule(store, config, 'test-secret');
    const accounts = accountsModule(store, config);
    const user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: user.id });
    newGrant = async () => {
      const grant = await oauth.grants.createGrant({ clientId: 'c1', userId: user.id, workspaceId: ws.id, resource: 'http://127.0.0.1:8787/acme/mcp', scopes: ['mcp:read'] });
      return { grantId: grant.id, token: await oauth.refreshTokens.issueRefreshToken(grant.id) };
    };
  });
  after(async () => store.drop());

  const db = () => store.typed<OAuthTables>();
  /** Moves a token's rotation back by `ms`, as if that much time had passed since. */
  const age = (token: string, ms: number) => db().updateTable('oauth_refresh_tokens').set({ rotated_at: Date.now() - ms }).where('token_hash', '=', sha256Hex(token)).execute();
  const rotate = (token: string) => oauth.refreshTokens.rotateRefreshToken(token);
  const successorOf = (r: Awaited<ReturnType<typeof rotate>>) => {
    assert.notEqual(r.kind, 'replay');
    return (r as { successor: string }).successor;
  };

  test('each rotation carries the chain generation: 1 for the first successor, one more for each next', async () => {
    const { token } = await newGrant();
    const r1 = await rotate(token);
    assert.equal(r1.kind, 'rotated');
    assert.equal((r1 as { generation: number }).generation, 1);
    const r2 = await rotate(successorOf(r1));
    assert.deepEqual([r2.kind, (r2 as { generation: number }).generation], ['rotated', 2]);
    await age(token, 11_000);
    assert.equal((await rotate(token)).kind, 'replay', 'past the grace window, the first token (its successor used) is a replay');
  });

  test('after the grace window, a token whose successor was never used gets a fresh successor; the unused one is superseded', async () => {
    const { token } = await newGrant();
    const lost = successorOf(await rotate(token));
    await age(token, 11_000);
    const retry = await rotate(token);
    assert.equal(retry.kind, 'reissued');
    assert.equal((retry as { generation: number }).generation, 1);
    const fresh = successorOf(retry);
    assert.notEqual(fresh, lost);
    // Within the window of the reissue, the same fresh successor again (concurrent and retried requests).
    assert.deepEqual(await rotate(token), { kind: 'grace', successor: fresh, generation: 1 });
    // The superseded successor (the answer that never arrived) is a replay if it ever turns up.
    assert.equal((await rotate(lost)).kind, 'replay');
    assert.equal((await rotate(fresh)).kind, 'rotated');
  });

  test('concurrent retries after the grace window agree on one fresh successor', async () => {
    const { token } = await newGrant();
    await rotate(token);
    await age(token, 11_000);
    const results = await Promise.all(Array.from({ length: 8 }, () => rotate(token)));
    assert.ok(results.every((r) => r.kind === 'reissued' || r.kind === 'grace'), JSON.stringify(results.map((r) => r.kind)));
    assert.equal(results.filter((r) => r.kind === 'reissued').length, 1);
    assert.equal(new Set(results.map(successorOf)).size, 1);
  });

  test('once the successor was presented, the previous token is a replay after the grace window', async () => {
    const { token } = await newGrant();
    const s1 = successorOf(await rotate(token));
    assert.equal((await rotate(s1)).kind, 'rotated');
    await age(token, 11_000);
    assert.equal((await rotate(token)).kind, 'replay');
  });

  test('once an access token of the successor’s generation was used, the previous token is a replay after the grace window', async () => {
    const { grantId, token } = await newGrant();
    await rotate(token);
    assert.equal(await oauth.grants.isGrantActive(grantId, 1), true);
    assert.equal((await oauth.grants.getGrant(grantId))!.confirmedGeneration, 1);
    await age(token, 11_000);
    assert.equal((await rotate(token)).kind, 'replay');
  });

  test('within the grace window the same successor comes back, used or not (as before)', async () => {
    const { token } = await newGrant();
    const s1 = successorOf(await rotate(token));
    await rotate(s1);
    assert.deepEqual(await rotate(token), { kind: 'grace', successor: s1, generation: 1 });
  });
});
