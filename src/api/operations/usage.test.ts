import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField } from './usage.ts';

test('usage CSV: RFC 4180 quoting, and a spreadsheet formula in a client id is defused', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('=HYPERLINK("http://evil")'), '"\'=HYPERLINK(""http://evil"")"');
  assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvField(-5), '-5', 'numbers are left alone');
});
