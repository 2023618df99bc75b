import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlans } from './plans.ts';

test('the default plan comes from rateLimitPerMinute; more plans from ratePlans', () => {
  const plans = parsePlans({ rateLimitPerMinute: 60, ratePlans: ' pro:600 , scale:6000/600 ' });
  assert.deepEqual([...plans.values()], [
    { name: 'default', workspacePerMinute: 60, grantPerMinute: 60 },
    { name: 'pro', workspacePerMinute: 600, grantPerMinute: 600 },
    { name: 'scale', workspacePerMinute: 6000, grantPerMinute: 600 },
  ]);
  assert.deepEqual([...parsePlans({ rateLimitPerMinute: 5, ratePlans: '' }).keys()], ['default']);
  // Redefining `default` is allowed (e.g. a different per-grant limit).
  assert.deepEqual(parsePlans({ rateLimitPerMinute: 5, ratePlans: 'default:100/10' }).get('default'), { name: 'default', workspacePerMinute: 100, grantPerMinute: 10 });
});

test('a malformed plan list stops the start with a message naming the setting', () => {
  for (const bad of ['pro', 'pro:', 'pro:abc', 'Pro:10', 'pro:0', 'pro:10/0', 'pro:10/20/30', 'a b:1']) {
    assert.throws(() => parsePlans({ rateLimitPerMinute: 60, ratePlans: bad }), /TOLLGATE_RATE_PLANS/, bad);
  }
});
