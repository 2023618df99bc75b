import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeaderValue, envelopeProblems, routeEra } from './era.ts';
import { classifyMessage } from './jsonrpc.ts';

const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const reader = (h: Record<string, string>) => (name: string) => h[name];
const req = (method: string, params?: Record<string, unknown>) => {
  const m = classifyMessage({ jsonrpc: '2.0', id: 1, method, params });
  assert.ok(m.kind === 'request');
  return m;
};
const modernHeaders = (method: string, extra: Record<string, string> = {}) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...extra });

test('2025-era messages: the version comes from the header, 2025-03-26 when absent; unknown versions are refused', () => {
  assert.deepEqual(routeEra(req('tools/list'), reader({})), { era: 'legacy', version: '2025-03-26' });
  assert.deepEqual(routeEra(req('tools/list'), reader({ 'mcp-protocol-version': '2025-06-18' })), { era: 'legacy', version: '2025-06-18' });
  const bad = routeEra(req('tools/list'), reader({ 'mcp-protocol-version': '1999-01-01' }));
  assert.equal(bad.era, 'reject');
  assert.equal(bad.era === 'reject' && bad.status, 400);
  assert.equal(bad.era === 'reject' && bad.error.code, -32022);
  assert.deepEqual(routeEra(req('initialize', { protocolVersion: '2025-06-18' }), reader({})).era, 'legacy');
});

test('2026-07-28 requests: envelope first, then the headers must agree with the body', () => {
  const ok = routeEra(req('tools/call', { name: 'x', _meta: meta }), reader(modernHeaders('tools/call', { 'mcp-name': ' x ' })));
  assert.equal(ok.era, 'modern');
  const cases: [string, ReturnType<typeof req>, Record<string, string>, number][] = [
    ['missing clientCapabilities', req('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }), modernHeaders('tools/list'), -32602],
    ['header names modern, no envelope', req('tools/list', {}), modernHeaders('tools/list'), -32602],
    ['version header disagrees', req('tools/list', { _meta: meta }), modernHeaders('tools/list', { 'mcp-protocol-version': '2025-11-25' }), -32020],
    ['method header disagrees', req('tools/list', { _meta: meta }), modernHeaders('prompts/list'), -32020],
    ['method values are case-sensitive', req('tools/list', { _meta: meta }), modernHeaders('TOOLS/LIST'), -32020],
    ['version header missing', req('tools/list', { _meta: meta }), { 'mcp-method': 'tools/list' }, -32020],
    ['method header missing', req('tools/list', { _meta: meta }), { 'mcp-protocol-version': '2026-07-28' }, -32020],
    ['name header missing', req('tools/call', { name: 'x', _meta: meta }), modernHeaders('tools/call'), -32020],
    ['name header disagrees', req('tools/call', { name: 'x', _meta: meta }), modernHeaders('tools/call', { 'mcp-name': 'y' }), -32020],
    ['unknown version', req('tools/list', { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2031-01-01' } }), modernHeaders('tools/list', { 'mcp-protocol-version': '2031-01-01' }), -32022],
    ['initialize with a modern header', req('initialize', { protocolVersion: '2025-06-18' }), modernHeaders('initialize'), -32020],
  ];
  for (const [why, msg, headers, code] of cases) {
    const r = routeEra(msg, reader(headers));
    assert.equal(r.era, 'reject', why);
    assert.equal(r.era === 'reject' && r.status, 400, why);
    assert.equal(r.era === 'reject' && r.error.code, code, why);
  }
  const unknown = routeEra(req('tools/list', { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': 'v9' } }), reader(modernHeaders('tools/list', { 'mcp-protocol-version': 'v9' })));
  assert.deepEqual(unknown.era === 'reject' && unknown.error.data, { supported: ['2026-07-28'], requested: 'v9' });
  // initialize inside a valid modern envelope is a 2026 request (and will be method-not-found there).
  assert.equal(routeEra(req('initialize', { _meta: meta }), reader(modernHeaders('initialize'))).era, 'modern');
});

test('2026-07-28 notifications need no standard headers', () => {
  const n = classifyMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { _meta: meta } });
  assert.ok(n.kind === 'notification');
  assert.equal(routeEra(n, reader({})).era, 'modern');
});

test('envelope problems name the key; clientInfo is optional but must be well-formed', () => {
  assert.deepEqual(envelopeProblems(meta), []);
  assert.match(envelopeProblems({})[0], /protocolVersion: missing/);
  assert.match(envelopeProblems({ ...meta, 'io.modelcontextprotocol/clientInfo': { name: 'x' } })[0], /clientInfo/);
});

test('SEP-2243 header values: literal unless wrapped as =?base64?…?=, and the base64 must be strict', () => {
  assert.equal(decodeHeaderValue('plain'), 'plain');
  assert.equal(decodeHeaderValue(`=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`), 'Hello, 世界');
  assert.equal(decodeHeaderValue('=?base64?SGVsbG8?='), undefined);
  assert.equal(decodeHeaderValue('=?base64?SGVs!!!bG8=?='), undefined);
  assert.equal(decodeHeaderValue('=?base64?SGVsbG8='), '=?base64?SGVsbG8=');
});

test('JSON-RPC classification', () => {
  assert.equal(classifyMessage([]).kind, 'invalid');
  assert.equal(classifyMessage({ jsonrpc: '1.0', id: 1, method: 'x' }).kind, 'invalid');
  assert.equal(classifyMessage({ jsonrpc: '2.0', id: null, method: 'x' }).kind, 'invalid');
  assert.equal(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'x', params: [1] }).kind, 'invalid');
  assert.equal(classifyMessage({ jsonrpc: '2.0', id: 1, result: {} }).kind, 'response');
  assert.equal(classifyMessage({ jsonrpc: '2.0', method: 'n' }).kind, 'notification');
  const r = classifyMessage({ jsonrpc: '2.0', id: 'a', method: 'm' });
  assert.deepEqual(r, { kind: 'request', id: 'a', method: 'm', params: undefined });
});
