import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { readServerSettings, recordServerSettings } from './index.ts';

const settings = { publicUrl: 'https://mcp.example.com', initialCredits: 250, ratePlans: 'pro:600', accessTokenTtlSeconds: 900 };

forEachDialect('instance settings', (dialect) => {
  describe('recorded by serve, read by the admin CLI', () => {
    test('nothing recorded reads as nothing; a later start replaces what an earlier one recorded', async () => {
      const store = await createTestStore(dialect);
      try {
        assert.deepEqual(await readServerSettings(store), {});
        await recordServerSettings(store, settings);
        assert.deepEqual(await readServerSettings(store), settings);
        await recordServerSettings(store, { ...settings, publicUrl: 'http://127.0.0.1:41234', ratePlans: '' });
        assert.deepEqual(await readServerSettings(store), { ...settings, publicUrl: 'http://127.0.0.1:41234', ratePlans: '' });
      } finally {
        await store.drop();
      }
    });

    test('unknown keys and values of the wrong type are ignored, never passed on as settings', async () => {
      const store = await createTestStore(dialect);
      try {
        await recordServerSettings(store, settings);
        const db = store.db;
        await db.updateTable('instance_settings').set({ value: '"lots"' }).where('key', '=', 'initialCredits').execute();
        await db.updateTable('instance_settings').set({ value: 'not json' }).where('key', '=', 'publicUrl').execute();
        await db.insertInto('instance_settings').values({ key: 'secret', value: '"x"', updated_at: 0 }).execute();
        assert.deepEqual(await readServerSettings(store), { ratePlans: 'pro:600', accessTokenTtlSeconds: 900 });
      } finally {
        await store.drop();
      }
    });
  });
});
