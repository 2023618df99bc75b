// Tool results are serialised once: a structuredResult's JSON is reused, byte for byte what the generic path gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toolResultJson } from './tool-call.ts';
import { structuredResult, type ToolResult } from '../tools/tool-types.ts';

const content = { contact: { id: 'ct_abc', name: 'Ada "the Countess" Lovelace', notes: 'line\nbreak ✓', tags: [1, null, true] }, deals: [] };

test('a structured result serialises exactly as JSON.stringify would, in both protocol eras', () => {
  for (const modern of [false, true]) {
    const plain: ToolResult = { content: [{ type: 'text', text: JSON.stringify(content) }], structuredContent: content };
    assert.equal(toolResultJson(structuredResult(content), modern), toolResultJson(plain, modern));
    assert.deepEqual(JSON.parse(toolResultJson(structuredResult(content), modern)).structuredContent, content);
  }
});

test('a structured result changed after it was made falls back to the generic path', () => {
  const changed = structuredResult(content);
  changed.isError = true;
  assert.equal(JSON.parse(toolResultJson(changed, false)).isError, true);
  const replaced = structuredResult(content);
  replaced.content = [{ type: 'text', text: 'other' }];
  assert.equal(JSON.parse(toolResultJson(replaced, false)).content[0].text, 'other');
});
