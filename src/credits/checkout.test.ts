import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkoutLinks, checkoutUrl, fillCheckoutTemplate, validateCheckoutTemplate } from './checkout.ts';

const base = { checkoutUrlTemplate: null, buyCreditsUrl: null, publicUrl: 'https://tg.example.com' };

test('the template gets the slug and external id, URL-encoded so neither can add a parameter', () => {
  const t = 'https://buy.stripe.com/test_123?client_reference_id={workspace}&prefilled_email=&ref={external_id}';
  assert.equal(fillCheckoutTemplate(t, { slug: 'acme', externalId: 'cus_1' }), 'https://buy.stripe.com/test_123?client_reference_id=acme&prefilled_email=&ref=cus_1');
  assert.equal(fillCheckoutTemplate(t, { slug: 'acme', externalId: 'a&b=c#d' }), 'https://buy.stripe.com/test_123?client_reference_id=acme&prefilled_email=&ref=a%26b%3Dc%23d');
  assert.equal(fillCheckoutTemplate(t, { slug: 'acme', externalId: null }).endsWith('&ref='), true);
});

test('precedence: template, then the fixed URL, then the dashboard', () => {
  assert.equal(checkoutUrl(base, { slug: 'acme', externalId: null }), 'https://tg.example.com/dashboard/acme');
  assert.equal(checkoutUrl({ ...base, buyCreditsUrl: 'https://pay.example.com' }, { slug: 'acme', externalId: null }), 'https://pay.example.com');
  assert.equal(checkoutUrl({ ...base, buyCreditsUrl: 'https://pay.example.com', checkoutUrlTemplate: 'https://x.example/{workspace}' }, { slug: 'acme', externalId: null }), 'https://x.example/acme');
});

test('a template that is not an http(s) URL is refused at start', () => {
  for (const bad of ['not a url {workspace}', 'javascript:alert({workspace})', 'ftp://x/{workspace}']) {
    assert.throws(() => validateCheckoutTemplate(bad), /checkoutUrlTemplate/, bad);
  }
  validateCheckoutTemplate('https://buy.stripe.com/x?client_reference_id={workspace}');
});

test('the workspace record is read only when the template uses {external_id}', async () => {
  const reads: string[] = [];
  const lookup = { async getWorkspace(id: string) { reads.push(id); return { slug: 'acme', externalId: 'cus 9' }; } };
  const bySlug = checkoutLinks({ ...base, checkoutUrlTemplate: 'https://x.example/?w={workspace}' }, lookup);
  assert.equal(await bySlug({ workspaceId: 'w1', workspaceSlug: 'acme' }), 'https://x.example/?w=acme');
  assert.deepEqual(reads, []);
  const byExternal = checkoutLinks({ ...base, checkoutUrlTemplate: 'https://x.example/?c={external_id}' }, lookup);
  assert.equal(await byExternal({ workspaceId: 'w1', workspaceSlug: 'acme' }), 'https://x.example/?c=cus%209');
  assert.deepEqual(reads, ['w1']);
});
