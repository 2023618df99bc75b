import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildToolRegistry, decodeCursor, encodeCursor } from './registry.ts';
import type { ToolDefinition } from '../tools/tool-types.ts';

const tool = (name: string, scope: 'mcp:read' | 'mcp:write' = 'mcp:read', extra: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name,
  description: `${name} does things`,
  inputSchema: { type: 'object', properties: {} },
  scope,
  cost: 1,
  handler: async () => ({ content: [{ type: 'text', text: name }] }),
  ...extra,
});

test('tools/list pages are per scope, in registration order, with opaque cursors; bad cursors are refused', () => {
  const tools = [...Array.from({ length: 5 }, (_, i) => tool(`read_${i}`)), ...Array.from({ length: 3 }, (_, i) => tool(`write_${i}`, 'mcp:write'))];
  const reg = buildToolRegistry(tools, { pageSize: 3 });
  const names = (json: string) => (JSON.parse(json) as { tools: { name: string }[] }).tools.map((t) => t.name);

  const p1 = reg.listPage(['mcp:read'], undefined, false);
  assert.ok(p1.ok);
  assert.deepEqual(names(p1.json), ['read_0', 'read_1', 'read_2']);
  const cursor = JSON.parse(p1.json).nextCursor;
  assert.equal(typeof cursor, 'string');
  const p2 = reg.listPage(['mcp:read'], cursor, false);
  assert.ok(p2.ok);
  assert.deepEqual(names(p2.json), ['read_3', 'read_4']);
  assert.equal(JSON.parse(p2.json).nextCursor, undefined);

  const all: string[] = [];
  let c: string | undefined;
  do {
    const p = reg.listPage(['mcp:read', 'mcp:write'], c, false);
    assert.ok(p.ok);
    all.push(...names(p.json));
    c = JSON.parse(p.json).nextCursor;
  } while (c);
  assert.deepEqual(all, tools.map((t) => t.name));

  const none = reg.listPage(['openid'], undefined, false);
  assert.ok(none.ok);
  assert.deepEqual(names(none.json), []);

  for (const bad of ['nope', encodeCursor(99), 'x'.repeat(100)]) assert.equal(reg.listPage(['mcp:read'], bad, false).ok, false);
  assert.equal(decodeCursor(encodeCursor(7)), 7);
});

test('2026-07-28 pages carry resultType, cache hints and the server identity; 2025 pages do not', () => {
  const reg = buildToolRegistry([tool('a')]);
  const modern = reg.listPage(['mcp:read'], undefined, true);
  const legacy = reg.listPage(['mcp:read'], undefined, false);
  assert.ok(modern.ok && legacy.ok);
  const m = JSON.parse(modern.json);
  assert.equal(m.resultType, 'complete');
  assert.equal(m.cacheScope, 'private');
  assert.ok(Number.isInteger(m.ttlMs) && m.ttlMs >= 0);
  assert.equal(m._meta['io.modelcontextprotocol/serverInfo'].name, 'tollgate');
  assert.deepEqual(Object.keys(JSON.parse(legacy.json)), ['tools']);
});

test('a bad registry stops the start with a message naming the tool', () => {
  assert.throws(() => buildToolRegistry([tool('dup'), tool('dup')]), /"dup" is registered twice/);
  assert.throws(() => buildToolRegistry([tool('has space')]), /Tool name "has space" is invalid/);
  assert.throws(() => buildToolRegistry([tool('x', 'mcp:read', { inputSchema: { type: 'string' } })]), /"x": inputSchema must be an object schema/);
  assert.throws(() => buildToolRegistry([tool('x', 'mcp:read', { cost: -1 })]), /"x": cost/);
  assert.throws(() => buildToolRegistry([tool('x', 'admin' as never)]), /"x": scope/);
  assert.throws(() => buildToolRegistry([tool('x', 'mcp:read', { inputSchema: { type: 'object', properties: { a: { type: 'nonsense' } } } })]), /"x": inputSchema does not compile/);
  assert.throws(() => buildToolRegistry([tool('x', 'mcp:read', { inputSchema: { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'bad name' } } } })]), /x-mcp-header/);
});

test('argument validators are compiled once: defaults fill in, formats are checked, draft-07 schemas work', () => {
  const reg = buildToolRegistry([
    tool('t', 'mcp:read', {
      inputSchema: {
        type: 'object',
        properties: { email: { type: 'string', format: 'email' }, day: { type: 'string', format: 'date' }, limit: { type: 'integer', default: 20 }, other: { type: 'string', format: 'made-up' } },
        additionalProperties: false,
      },
    }),
    tool('legacy', 'mcp:read', { inputSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } }),
  ]);
  const t = reg.get('t')!;
  const args: Record<string, unknown> = { email: 'a@b.co', day: '2026-02-28', other: 'anything' };
  assert.equal(t.validate(args), true);
  assert.equal(args.limit, 20);
  assert.equal(t.validate({ email: 'not-an-email' }), false);
  assert.equal(t.validate({ day: '2026-02-30' }), false);
  assert.equal(reg.get('legacy')!.validate({ n: 1 }), true);
  assert.equal(reg.get('legacy')!.validate({}), false);
  assert.equal(reg.get('missing'), undefined);
});

test('x-mcp-header declarations are indexed per tool', () => {
  const reg = buildToolRegistry([tool('h', 'mcp:read', { inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, q: { type: 'string' } } } })]);
  assert.deepEqual(reg.get('h')!.headerParams, [{ property: 'region', header: 'mcp-param-region' }]);
});

test('the cost of a lookup does not depend on the number of tools', () => {
  const many = buildToolRegistry(Array.from({ length: 500 }, (_, i) => tool(`t${i}`)));
  assert.equal(many.size, 500);
  assert.equal(many.get('t499')!.def.name, 't499');
  // Pages were serialised at build time: the same string comes back each time.
  const a = many.listPage(['mcp:read'], undefined, false);
  const b = many.listPage(['mcp:read'], undefined, false);
  assert.ok(a.ok && b.ok && a.json === b.json);
});

test('each listed tool says its price in credits and its scope in _meta (tollgate/price, tollgate/scope)', () => {
  const reg = buildToolRegistry([tool('free_read', 'mcp:read', { cost: 0 }), tool('paid_write', 'mcp:write', { cost: 7, annotations: { destructiveHint: false } })]);
  for (const modern of [false, true]) {
    const page = reg.listPage(['mcp:read', 'mcp:write'], undefined, modern);
    assert.ok(page.ok);
    const tools = JSON.parse(page.json).tools as { name: string; _meta: Record<string, unknown>; annotations?: unknown }[];
    assert.deepEqual(tools.map((t) => [t.name, t._meta]), [
      ['free_read', { 'tollgate/price': 0, 'tollgate/scope': 'mcp:read' }],
      ['paid_write', { 'tollgate/price': 7, 'tollgate/scope': 'mcp:write' }],
    ]);
    assert.deepEqual(tools[1].annotations, { destructiveHint: false });
  }
  assert.deepEqual(reg.visible(['mcp:read'])[0]._meta, { 'tollgate/price': 0, 'tollgate/scope': 'mcp:read' });
});
