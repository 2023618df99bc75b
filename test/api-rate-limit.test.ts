// Issue 19 §2 — API keys are rate limited: past the per-key limit, 429 problem details with Retry-After; another
// key is not affected; the refused requests change nothing. On PostgreSQL and Redis the count is shared by every
// process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { PG_URL } from './helpers/databases.ts';
import { deleteRedisKeys, REDIS_URL, warnRedisSkip } from './helpers/redis.ts';
import { describeUnless } from './helpers/skip.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { TOLLGATE_API_RATE_LIMIT_PER_MINUTE: '5' } });
});
after(async () => server.stop());

test('the sixth request in a minute with one key is 429 with Retry-After; another key still works', async () => {
  const a = (await server.services.api.keys.createKey({ name: 'busy', access: 'read' })).secret;
  const b = (await server.services.api.keys.createKey({ name: 'quiet', access: 'read' })).secret;
  const get = (key: string) => fetch(`${server.url}/api/v1/workspaces/demo/credits`, { headers: { authorization: `Bearer ${key}` } });
  const statuses: number[] = [];
  // Five in a window pass; a window boundary inside the loop allows at most five more.
  while (statuses.length < 11 && statuses.at(-1) !== 429) statuses.push((await get(a)).status);
  assert.equal(statuses.at(-1), 429, JSON.stringify(statuses));
  const passed = statuses.filter((s) => s === 200).length;
  assert.ok(passed >= 5 && passed <= 10, JSON.stringify(statuses));
  const res = await get(a);
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
  assert.equal((await res.json()).code, 'rate_limited');
  assert.equal((await get(b)).status, 200);
});

// The limit is one per key, not one per process: on PostgreSQL (and with Redis) two servers share the count.
const shared: { name: string; skip?: string; env: () => Record<string, string> }[] = [
  { name: 'PostgreSQL', skip: PG_URL ? undefined : 'TOLLGATE_TEST_PG_URL not set', env: () => ({}) },
  { name: 'Redis', skip: PG_URL && REDIS_URL ? undefined : 'TOLLGATE_TEST_PG_URL or TOLLGATE_TEST_REDIS_URL not set', env: () => ({ TOLLGATE_REDIS_URL: REDIS_URL!, TOLLGATE_RATE_LIMIT_BACKEND: 'redis' }) },
];
warnRedisSkip();
for (const s of shared) {
  describeUnless(`management API: two servers share one key's limit (${s.name})`, s.skip, () => {
    let first: TestServer;
    let second: TestServer;
    let keyId = '';
    before(async () => {
      const env = { TOLLGATE_API_RATE_LIMIT_PER_MINUTE: '6', TOLLGATE_SECRET: 'a-secret-both-servers-share-0123456789', ...s.env() };
      first = await startTestServer({ dialect: 'postgres', env });
      second = await startTestServer({ dialect: 'postgres', env: { ...env, TOLLGATE_DATABASE_URL: first.config.databaseUrl } });
    });
    after(async () => {
      await second?.stop();
      await first?.stop();
      if (s.name === 'Redis' && keyId) await deleteRedisKeys(REDIS_URL!, `tollgate:rl:api:${keyId}`);
    });

    test('a limit of six a minute, requests alternating between the servers: the seventh and later are 429 on either', async () => {
      const created = await first.services.api.keys.createKey({ name: 'shared', access: 'read' });
      keyId = created.key.id;
      const get = (server: TestServer) => fetch(`${server.url}/api/v1/workspaces/demo/credits`, { headers: { authorization: `Bearer ${created.secret}` } });
      // A window starts at the key's first request, so all of these fall in one: six pass, then 429 on either server.
      // Counted per process, each server would allow six and all twelve alternating requests would pass.
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await get(i % 2 ? second : first)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
      const both = [await get(first), await get(second)];
      assert.deepEqual(both.map((r) => r.status), [429, 429]);
      assert.equal((await both[1].json()).code, 'rate_limited');
    });
  });
}
