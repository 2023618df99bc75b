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

test('results: text as is (JSON indented), other content summarised, structured content when alone', () => {
  assert.equal(formatToolResult({ content: [{ type: 'text', text: 'hello' }] }), 'hello');
  assert.equal(formatToolResult({ content: [{ type: 'text', text: '{"a":1}' }] }), '{\n  "a": 1\n}');
  assert.equal(formatToolResult({ content: [{ type: 'image', mimeType: 'image/png', data: 'AAAA' }] }), '[image image/png, 3 bytes]');
  assert.equal(formatToolResult({ content: [], structuredContent: { ok: true } }), '{\n  "ok": true\n}');
});
