import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatToolResult, formatTools, parseToolArgs } from './tool-format.ts';
import type { Tool } from './mcp-http-client.ts';

const tool: Tool = {
  name: 'search',
  description: 'Find things.\nMore text.',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string', description: 'Words' }, limit: { type: 'integer' }, exact: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } }, code: { type: 'string' } },
    required: ['query'],
  },
};

test('key=value arguments follow the schema; --args JSON is the base; key:=json forces JSON', () => {
  assert.deepEqual(parseToolArgs('{"limit":5,"query":"x"}', ['query=acme corp', 'exact=true', 'code=007', 'tags:=["a"]'], tool), { limit: 5, query: 'acme corp', exact: true, code: '007', tags: ['a'] });
  assert.deepEqual(parseToolArgs(undefined, ['limit=10', 'other=3', 'word=hi'], tool), { limit: 10, other: 3, word: 'hi' });
  assert.throws(() => parseToolArgs('[1]', [], tool), /JSON object/);
  assert.throws(() => parseToolArgs('{', [], tool), /not valid JSON/);
  assert.throws(() => parseToolArgs(undefined, ['novalue'], tool), /not key=value/);
});

test('tool lists show names, first description lines and parameters', () => {
  const text = formatTools([tool]);
  assert.match(text, /^search {2}— Find things\.$/m);
  assert.match(text, /query \(string, required\) — Words/);
  assert.match(text, /tags \(string\[\]\)/);
});

test('tool lists show each tool\'s price and scope from the server\'s _meta, and "—" where it does not say', () => {
  const text = formatTools([
    { ...tool, name: 'paid', _meta: { 'tollgate/price': 1500, 'tollgate/scope': 'mcp:write' } },
    { ...tool, name: 'one', _meta: { 'tollgate/price': 1, 'tollgate/scope': 'mcp:read' } },
    { ...tool, name: 'zero', _meta: { 'tollgate/price': 0, 'tollgate/scope': 'mcp:read' } },
    { ...tool, name: 'silent' },
    { ...tool, name: 'odd', _meta: { 'tollgate/price': '5', 'tollgate/scope': 'mcp:read\u001b[2J' } },
  ]);
  assert.match(text, /^paid {2}— Find things\.\n {4}price: 1,500 credits · scope: mcp:write\n/m);
  assert.match(text, /^one {2}— .*\n {4}price: 1 credit · scope: mcp:read\n/m);
  assert.match(text, /^zero {2}— .*\n {4}price: free · scope: mcp:read\n/m);
  assert.match(text, /^silent {2}— .*\n {4}price: — · scope: —\n/m);
  assert.match(text, /^odd {2}— .*\n {4}price: — · scope: —\n/m, 'values of the wrong form are not shown');
  assert.ok(!text.includes('\u001b'));
});

test('results: text as is (JSON indented), other content summarised, structured content when alone', () => {
  assert.equal(formatToolResult({ content: [{ type: 'text', text: 'hello' }] }), 'hello');
  assert.equal(formatToolResult({ content: [{ type: 'text', text: '{"a":1}' }] }), '{\n  "a": 1\n}');
  assert.equal(formatToolResult({ content: [{ type: 'image', mimeType: 'image/png', data: 'AAAA' }] }), '[image image/png, 3 bytes]');
  assert.equal(formatToolResult({ content: [], structuredContent: { ok: true } }), '{\n  "ok": true\n}');
});
