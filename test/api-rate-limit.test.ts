// Issue 19 §2 — API keys are rate limited: past the per-key limit, 429 problem details with Retry-After; another
// key is not affected; the refused requests change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.ts';

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
