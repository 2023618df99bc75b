import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { gatewayStore, GATEWAY_CHANNEL } from './gateway-store.ts';

forEachDialect('gateway store', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => {
    await store.drop();
  });

  test('header and env secrets are sealed at rest, opened only with the same secret, and every change bumps the version', async () => {
    const gw = gatewayStore(store, 'secret-one');
    const v0 = await gw.version();
    await gw.addUpstream({ name: 'crm', target: { transport: 'http', url: 'https://crm.internal/mcp', headers: { 'X-Api-Key': 'sk-live-123' } }, defaultPrice: 2, timeoutMs: null });
    await gw.addUpstream({ name: 'files', target: { transport: 'stdio', command: ['node', 'server.js'], env: { API_TOKEN: 'tok-456' } }, defaultPrice: 1, timeoutMs: 5000 });
    assert.equal(await gw.version(), v0 + 2);
    const rows = await store.db.selectFrom('gateway_upstreams').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes('sk-live-123') && !JSON.stringify(rows).includes('tok-456'));
    const crm = await gw.getUpstream('crm');
    assert.deepEqual(crm?.target, { transport: 'http', url: 'https://crm.internal/mcp', headers: { 'X-Api-Key': 'sk-live-123' } });
    const files = await gw.getUpstream('files');
    assert.deepEqual(files?.target, { transport: 'stdio', command: ['node', 'server.js'], env: { API_TOKEN: 'tok-456' } });
    assert.equal(files?.timeoutMs, 5000);
    // Another secret cannot open them (AES-GCM authenticates), and says why.
    await assert.rejects(gatewayStore(store, 'secret-two').getUpstream('crm'), /Cannot decrypt the secrets of upstream crm/);
    await assert.rejects(gw.addUpstream({ name: 'crm', target: { transport: 'http', url: 'https://x/mcp', headers: {} }, defaultPrice: 1, timeoutMs: null }), /exists already/);
  });

  test('discovery keeps configured prices and scopes, removes gone tools, and bumps the version only when the list changed', async () => {
    const gw = gatewayStore(store, 'secret-one');
    const echo = { name: 'echo', inputSchema: { type: 'object' } };
    const add = { name: 'add', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } };
    assert.equal(await gw.recordDiscovery('crm', [echo, add]), true);
    await gw.setToolPrice('crm', 'echo', 5, 'mcp:read');
    const v = await gw.version();
    assert.equal(await gw.recordDiscovery('crm', [echo, add]), false);
    assert.equal(await gw.version(), v);
    assert.equal(await gw.recordDiscovery('crm', [{ ...echo, description: 'now described' }]), true);
    const tools = await gw.listTools('crm');
    assert.deepEqual(tools.map((t) => [t.definition.name, t.price, t.scope, t.definition.description]), [['echo', 5, 'mcp:read', 'now described']]);
    await assert.rejects(gw.setToolPrice('crm', 'nosuch', 1), /has no tool named nosuch/);
    await assert.rejects(gw.setDefaultPrice('nosuch', 1), /No upstream named nosuch/);
  });

  test('removing an upstream removes its tools; a discovery for a removed upstream records nothing', async () => {
    const gw = gatewayStore(store, 'secret-one');
    assert.equal(await gw.removeUpstream('crm'), true);
    assert.equal(await gw.removeUpstream('crm'), false);
    assert.deepEqual(await gw.listTools('crm'), []);
    await gw.recordDiscovery('crm', [{ name: 'late', inputSchema: { type: 'object' } }]);
    assert.deepEqual(await gw.listTools('crm'), []);
  });

  if (dialect === 'postgres') {
    test('PostgreSQL: a change is announced on the gateway channel at commit', async () => {
      const gw = gatewayStore(store, 'secret-one');
      let up!: () => void;
      const listening = new Promise<void>((r) => (up = r));
      const heard = new Promise<void>((resolve) => {
        const l = store.listen!(GATEWAY_CHANNEL, () => {
          resolve();
          void l.close();
        }, (isUp) => isUp && up());
      });
      await listening;
      await gw.setDefaultPrice('files', 3);
      await heard;
      assert.equal((await gw.getUpstream('files'))?.defaultPrice, 3);
    });
  }
});
