import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { createArgumentValidator } from '../mcp/registry.ts';
import { ToolError, type ToolContext, type ToolDefinition, type ToolResult } from '../tools/tool-types.ts';
import { crmModule, type CrmModule } from './index.ts';
import { containsPattern } from './store.ts';

forEachDialect('demo CRM', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let crm: CrmModule;
  let demo: ToolContext;
  let other: ToolContext;
  const ajv = createArgumentValidator();
  const tools = new Map<string, ToolDefinition>();

  /** Calls a tool the way the dispatcher does: validate (filling defaults), run, check the output schema. */
  async function call(name: string, args: Record<string, unknown>, ctx = demo): Promise<ToolResult> {
    const t = tools.get(name)!;
    const input = structuredClone(args);
    const validate = ajv.compile(t.inputSchema);
    assert.ok(validate(input), `${name} arguments: ${JSON.stringify(validate.errors)}`);
    const result = await t.handler(input, ctx);
    if (t.outputSchema && !result.isError) {
      const check = ajv.compile(t.outputSchema);
      assert.ok(check(result.structuredContent), `${name} output: ${JSON.stringify(check.errors)}`);
    }
    assert.equal((result.content[0] as { text: string }).text, JSON.stringify(result.structuredContent));
    return result;
  }
  const sc = (r: ToolResult) => r.structuredContent as Record<string, any>;

  before(async () => {
    store = await createTestStore(dialect);
    const accounts = accountsModule(store, loadConfig({ env: {} }));
    const a = await accounts.workspaces.createWorkspace({ slug: 'demo' });
    const b = await accounts.workspaces.createWorkspace({ slug: 'other' });
    const base = { userId: 'u', clientId: 'c', grantId: 'g', scopes: ['mcp:read', 'mcp:write'], requestId: 'r' };
    demo = { ...base, workspaceId: a.id, workspaceSlug: 'demo' };
    other = { ...base, workspaceId: b.id, workspaceSlug: 'other' };
    crm = crmModule(store);
    for (const t of crm.tools) tools.set(t.name, t);
    await crm.seedDemo({ id: a.id });
    await crm.seedDemo({ id: a.id }); // seeding twice adds nothing
  });
  after(async () => store.drop());

  test('the toolset: reads need mcp:read and cost 1–2, writes need mcp:write and cost 2–3, annotations say which is which', () => {
    assert.deepEqual([...tools.keys()].sort(), ['create_contact', 'create_deal', 'get_contact', 'get_deal', 'move_deal_stage', 'pipeline_summary', 'search_contacts', 'search_deals', 'update_contact']);
    for (const t of tools.values()) {
      const reads = t.annotations?.readOnlyHint === true;
      assert.equal(t.scope, reads ? 'mcp:read' : 'mcp:write', t.name);
      assert.ok(reads ? t.cost >= 1 && t.cost <= 2 : t.cost >= 2 && t.cost <= 3, t.name);
      assert.ok(t.outputSchema, t.name);
      // An out-of-credits answer carries { error, balance, cost }: it must satisfy every output schema, because
      // SDK v1 clients validate structured content even on error results.
      assert.ok(ajv.compile(t.outputSchema!)({ error: 'insufficient_credits', balance: 0, cost: t.cost }), t.name);
    }
  });

  test('the demo workspace is seeded with contacts and deals in every stage; another workspace sees none of it', async () => {
    const all = sc(await call('search_contacts', { limit: 100 }));
    assert.equal(all.contacts.length, 20);
    assert.ok(all.contacts.every((c: { id: string }) => /^ct_[a-z0-9]{12}$/.test(c.id)));
    const summary = sc(await call('pipeline_summary', {}));
    const usd = summary.currencies.find((c: { currency: string }) => c.currency === 'USD');
    assert.ok(usd.stages.every((s: { count: number }) => s.count > 0), 'every stage has USD deals');
    assert.deepEqual(summary.currencies.map((c: { currency: string }) => c.currency), ['EUR', 'GBP', 'USD']);
    assert.equal(summary.contacts, 20);
    assert.deepEqual(sc(await call('search_contacts', {}, other)).contacts, []);
    assert.deepEqual(sc(await call('search_deals', {}, other)).deals, []);
  });

  test('search: case-insensitive over name, email, company and title; paging; LIKE wildcards are literal', async () => {
    const r = sc(await call('search_contacts', { query: 'ALPENBANK' }));
    assert.deepEqual(r.contacts.map((c: { name: string }) => c.name), ['Hannah Schmidt', 'Raj Patel']);
    assert.equal(sc(await call('search_contacts', { query: 'cto' })).contacts[0].name, 'Aiko Tanaka');
    assert.equal(sc(await call('search_contacts', { company: 'lumen health' })).contacts.length, 2);
    const page1 = sc(await call('search_contacts', { limit: 5 }));
    assert.equal(page1.hasMore, true);
    assert.equal(page1.nextOffset, 5);
    const page2 = sc(await call('search_contacts', { limit: 5, offset: 5 }));
    assert.notEqual(page2.contacts[0].id, page1.contacts[0].id);
    assert.deepEqual(sc(await call('search_contacts', { query: '%' })).contacts, []);
    assert.deepEqual(sc(await call('search_contacts', { query: '_' })).contacts, []);
    assert.equal(containsPattern('50%_a\\b'), '%50\\%\\_a\\\\b%');
  });

  test('contacts: create, duplicate email refused, update and clear fields, get with deals; other workspaces cannot reach them', async () => {
    const created = sc(await call('create_contact', { name: ' Zoe Adams ', email: 'Zoe@Example.com', company: 'Acme' })).contact;
    assert.equal(created.name, 'Zoe Adams');
    assert.equal(created.email, 'zoe@example.com');
    await assert.rejects(call('create_contact', { name: 'Other Zoe', email: 'zoe@example.COM' }), (e: Error) => e instanceof ToolError && /already exists: Zoe Adams/.test(e.message));
    const updated = sc(await call('update_contact', { id: created.id, title: 'CEO', company: null })).contact;
    assert.equal(updated.title, 'CEO');
    assert.equal(updated.company, null);
    assert.equal(sc(await call('search_contacts', { query: 'ceo' })).contacts.some((c: { id: string }) => c.id === created.id), true);
    const got = sc(await call('get_contact', { id: created.id }));
    assert.equal(got.contact.id, created.id);
    assert.deepEqual(got.deals, []);
    await assert.rejects(call('get_contact', { id: created.id }, other), /No contact with id/);
    await assert.rejects(call('update_contact', { id: created.id, name: 'Hijack' }, other), /No contact with id/);
    assert.equal(sc(await call('get_contact', { id: created.id })).contact.name, 'Zoe Adams');
  });

  test('deals: create for a contact, move through stages, filters, and the pipeline summary adds up', async () => {
    const contact = sc(await call('search_contacts', { query: 'nadia' })).contacts[0];
    const deal = sc(await call('create_deal', { title: 'Orbital expansion', amount: 1234.56, contactId: contact.id, expectedClose: '2027-01-31' })).deal;
    assert.deepEqual([deal.stage, deal.currency, deal.amount], ['lead', 'USD', 1234.56]);
    await assert.rejects(call('create_deal', { title: 'x', amount: 1, contactId: 'ct_doesnotexist' }), /No contact with id/);
    const before = sc(await call('pipeline_summary', {})).currencies.find((c: { currency: string }) => c.currency === 'USD');
    const moved = sc(await call('move_deal_stage', { id: deal.id, stage: 'won' }));
    assert.equal(moved.previousStage, 'lead');
    assert.equal(moved.deal.stage, 'won');
    const afterWin = sc(await call('pipeline_summary', {})).currencies.find((c: { currency: string }) => c.currency === 'USD');
    assert.equal(Math.round((afterWin.wonAmount - before.wonAmount) * 100), 123456);
    assert.equal(Math.round((before.openAmount - afterWin.openAmount) * 100), 123456);
    const stageOf = (s: { stages: { stage: string; count: number; amount: number }[] }, stage: string) => s.stages.find((x) => x.stage === stage)!;
    const open = ['lead', 'qualified', 'proposal', 'negotiation'].reduce((n, st) => n + stageOf(afterWin, st).amount, 0);
    assert.equal(Math.round(open * 100), Math.round(afterWin.openAmount * 100));
    const got = sc(await call('get_deal', { id: deal.id }));
    assert.equal(got.contact.id, contact.id);
    assert.ok(sc(await call('search_deals', { stage: 'won', contactId: contact.id })).deals.some((d: { id: string }) => d.id === deal.id));
    assert.ok(sc(await call('search_deals', { minAmount: 100000 })).deals.every((d: { amount: number }) => d.amount >= 100000));
    assert.ok(sc(await call('search_deals', { query: 'ORBITAL' })).deals.length >= 2);
    await assert.rejects(call('move_deal_stage', { id: deal.id, stage: 'lost' }, other), /No deal with id/);
    await assert.rejects(call('get_deal', { id: deal.id }, other), /No deal with id/);
    assert.equal(sc(await call('get_contact', { id: contact.id })).deals.length, 2);
  });

  test('input schemas refuse what the handlers must never see', () => {
    const valid = (name: string, args: unknown) => ajv.compile(tools.get(name)!.inputSchema)(args);
    assert.equal(valid('create_contact', { email: 'a@b.co' }), false);
    assert.equal(valid('create_contact', { name: 'x', email: 'nope' }), false);
    assert.equal(valid('create_contact', { name: 'x', surprise: 1 }), false);
    assert.equal(valid('update_contact', { id: 'ct_abcd1234' }), false);
    assert.equal(valid('create_deal', { title: 'x', amount: -5 }), false);
    assert.equal(valid('create_deal', { title: 'x', amount: 5, currency: 'usd' }), false);
    assert.equal(valid('move_deal_stage', { id: 'dl_abcd1234', stage: 'closed' }), false);
    assert.equal(valid('get_contact', { id: "ct_x' or 1=1" }), false);
    assert.equal(valid('search_contacts', { limit: 1000 }), false);
  });
});
