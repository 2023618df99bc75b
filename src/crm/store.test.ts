import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { crmStore, type CrmStore } from './store.ts';
import { crmModule } from './index.ts';

forEachDialect('CRM store: a contact with its deals in one statement', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let crm: CrmStore;
  let ws: string;
  let other: string;

  before(async () => {
    store = await createTestStore(dialect);
    const accounts = accountsModule(store, loadConfig({ env: {} }));
    ws = (await accounts.workspaces.createWorkspace({ slug: 'demo' })).id;
    other = (await accounts.workspaces.createWorkspace({ slug: 'other' })).id;
    await crmModule(store).seedDemo({ id: ws });
    crm = crmStore(store);
  });
  after(async () => store.drop());

  test('the same contact and deals, in the same order, as the two reads it replaces', async () => {
    const { contacts } = await crm.searchContacts(ws, { limit: 100, offset: 0 });
    assert.ok(contacts.length > 3);
    let withDeals = 0;
    for (const c of contacts) {
      const expected = { contact: await crm.getContact(ws, c.id), deals: (await crm.searchDeals(ws, { contactId: c.id, limit: 100, offset: 0 })).deals };
      const got = await crm.getContactWithDeals(ws, c.id, 100);
      assert.deepEqual(got, expected);
      if (expected.deals.length) withDeals++;
    }
    assert.ok(withDeals > 0, 'the demo data has contacts with deals');
  });

  test('the deal limit, a contact without deals, another workspace, an unknown id', async () => {
    const contact = await crm.createContact(ws, { name: 'Many Deals' }, 1_000);
    for (let i = 0; i < 5; i++) await crm.createDeal(ws, { title: `Deal ${i}`, amountCents: 100 * i, currency: 'EUR', stage: 'lead', contactId: contact.id }, 2_000 + (i % 2));
    const two = await crm.getContactWithDeals(ws, contact.id, 2);
    assert.deepEqual(two?.deals, (await crm.searchDeals(ws, { contactId: contact.id, limit: 2, offset: 0 })).deals);
    assert.equal(two?.deals.length, 2);
    const lonely = await crm.createContact(ws, { name: 'No Deals' });
    assert.deepEqual(await crm.getContactWithDeals(ws, lonely.id, 100), { contact: lonely, deals: [] });
    assert.equal(await crm.getContactWithDeals(other, contact.id, 100), undefined);
    assert.equal(await crm.getContactWithDeals(ws, 'ct_nope', 100), undefined);
  });

  test('reads issued together (combined into one statement on PostgreSQL) each get their own answer', async () => {
    const { contacts } = await crm.searchContacts(ws, { limit: 100, offset: 0 });
    const keys: [string, string, number][] = [
      ...contacts.map((c, i): [string, string, number] => [ws, c.id, i % 3 === 0 ? 1 : 100]),
      [other, contacts[0].id, 100],
      [ws, 'ct_nope', 100],
      [ws, contacts[1].id, 100],
      [ws, contacts[1].id, 100],
    ];
    const one = [];
    for (const [w, id, limit] of keys) one.push(await crm.getContactWithDeals(w, id, limit));
    const together = await Promise.all(keys.map(([w, id, limit]) => crm.getContactWithDeals(w, id, limit)));
    assert.deepEqual(together, one);
    assert.equal(together.filter((r) => r === undefined).length, 2);
  });
});
