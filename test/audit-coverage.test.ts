// Issue 19 §5 (audit): the changes that used to leave no trace are recorded, as whoever made them, never with a
// secret: `tollgate admin webhooks add|remove` and `admin idp add|remove` as the operator at the CLI; a password
// reset through the mailed link (the web page) as the account, with the request's address; linking and unlinking a
// sign-in identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.ts';
import { loadConfig } from '../src/config/config.ts';
import { openServices } from '../src/services.ts';
import { createLogger } from '../src/util/logger.ts';
import { validateClientMetadata } from '../src/oauth/client-metadata.ts';
import { testSigner } from './helpers/jwt-signer.ts';
import { ADMIN_EMAIL, startTestServer } from './helpers/server.ts';
import { startTestSmtp, linkIn } from './helpers/smtp.ts';
import { CookieJar, getPage, postForm } from './helpers/web-pages.ts';
import { parseForms } from './helpers/oauth-flow.ts';

test('CLI: webhooks add/remove and idp add/remove are in the audit trail as the operator, without the signing secret', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-audit-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP: 'true', TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' };
  try {
    const setup = await openServices(loadConfig({ env }), createLogger('silent'));
    const { metadata } = validateClientMetadata({ client_name: 'Agent', redirect_uris: ['https://agent.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    const clientId = (await setup.oauth.clients.createClient(metadata, 'static')).client.clientId;
    await setup.close();

    const added = await runCli(['admin', 'webhooks', 'add', 'http://127.0.0.1:9/hook', '--events', 'credits.low'], { env });
    assert.equal(added.code, 0, added.stderr);
    const secret = /(whsec_[A-Za-z0-9+/=_-]+)/.exec(added.stdout)?.[1];
    assert.ok(secret, added.stdout);
    const listed = await runCli(['admin', 'webhooks', 'list'], { env });
    const endpointId = /(we_[A-Za-z0-9_-]+|[0-9a-f-]{36})/.exec(listed.stdout)?.[1];
    assert.ok(endpointId, listed.stdout);
    assert.equal((await runCli(['admin', 'webhooks', 'remove', endpointId], { env })).code, 0);

    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(testSigner('ES256').jwks));
    const idp = await runCli(['admin', 'idp', 'add', 'acme-idp', '--issuer', 'https://idp.acme.example', '--jwks-file', jwksFile, '--client', clientId], { env });
    assert.equal(idp.code, 0, idp.stderr);
    assert.equal((await runCli(['admin', 'idp', 'remove', 'acme-idp'], { env })).code, 0);

    const after = await openServices(loadConfig({ env }), createLogger('silent'), { migrate: false, create: false });
    try {
      const { records } = await after.audit.list({ limit: 500 });
      const one = (action: string) => {
        const found = records.filter((r) => r.action === action);
        assert.equal(found.length, 1, `${action}: ${JSON.stringify(records.map((r) => r.action))}`);
        assert.equal(found[0].actor.type, 'cli');
        assert.match(found[0].actor.label ?? '', /@/, 'the OS user at the host');
        return found[0];
      };
      const webhookAdded = one('webhook.added');
      assert.equal(webhookAdded.target.id, endpointId);
      assert.match(webhookAdded.userAgent ?? '', /^tollgate admin webhooks add/);
      assert.deepEqual(webhookAdded.after, { url: 'http://127.0.0.1:9/hook', events: 'credits.low' });
      assert.equal(one('webhook.removed').target.id, endpointId);
      const idpAdded = one('idp.added');
      assert.deepEqual([idpAdded.target.id, (idpAdded.after as { issuer: string }).issuer, (idpAdded.after as { allowed_client_ids: string[] }).allowed_client_ids], ['acme-idp', 'https://idp.acme.example', [clientId]]);
      assert.equal(one('idp.removed').target.id, 'acme-idp');
      assert.ok(!JSON.stringify(records).includes(secret.slice(6)), 'the webhook signing secret is never recorded');
    } finally {
      await after.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a password reset through the mailed link is recorded as the account, with its address and request id, never the password or link', async () => {
  const smtp = await startTestSmtp();
  const server = await startTestServer({ env: { TOLLGATE_SMTP_URL: smtp.url } });
  try {
    const jar = new CookieJar();
    const forgot = await getPage(jar, `${server.url}/password-reset`);
    const form = parseForms(forgot.body, forgot.url).find((f) => new URL(f.action).pathname === '/password-reset');
    assert.ok(form, forgot.body.slice(0, 300));
    await postForm(jar, form.action, { ...form.fields, email: ADMIN_EMAIL });
    const mail = await smtp.waitFor((m) => m.to.includes(ADMIN_EMAIL));
    const link = linkIn(mail.text, '/password-reset');
    const choose = await getPage(jar, link.toString());
    const set = parseForms(choose.body, choose.url).find((f) => 'password2' in f.fields);
    assert.ok(set, choose.body.slice(0, 300));
    const password = 'a brand new password 42';
    const done = await postForm(jar, set.action, { ...set.fields, password, password2: password });
    assert.equal(done.status, 200, done.body.slice(0, 300));
    const user = (await server.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    const { records } = await server.services.audit.list({ action: 'user.password_reset' });
    assert.equal(records.length, 1);
    const [r] = records;
    assert.deepEqual([r.actor.type, r.actor.id, r.actor.label, r.target.id, r.ip], ['user', user.id, ADMIN_EMAIL, user.id, '127.0.0.1']);
    assert.ok(r.requestId);
    const text = JSON.stringify(r);
    assert.ok(!text.includes(password) && !text.includes(link.searchParams.get('token')!), text);
  } finally {
    await server.stop();
    await smtp.close();
  }
});

test('linking and unlinking a sign-in identity are recorded in the link\'s own transaction', async () => {
  const server = await startTestServer();
  try {
    const s = server.services;
    const user = (await s.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    const cn = await s.identity.connections.addConnection({ name: 'corp', issuer: 'https://login.corp.example', clientId: 'tollgate', clientSecret: 'provider client secret' });
    const ctx = { actor: { type: 'user' as const, id: user.id, label: user.email }, ip: '192.0.2.7', userAgent: 'test', requestId: 'req-1' };
    assert.equal(await s.identity.links.link({ issuer: 'https://login.corp.example', subject: 'sub-123', userId: user.id, connectionId: cn.id, email: user.email }, ctx), true);
    // A second link of the same identity is refused and records nothing.
    assert.equal(await s.identity.links.link({ issuer: 'https://login.corp.example', subject: 'sub-123', userId: user.id, connectionId: cn.id, email: user.email }, ctx), false);
    const linked = (await s.audit.list({ action: 'identity.linked' })).records;
    assert.equal(linked.length, 1);
    assert.deepEqual([linked[0].target.id, linked[0].ip, (linked[0].after as { subject: string }).subject], [user.id, '192.0.2.7', 'sub-123']);
    assert.equal(await s.identity.links.unlink(user.id, 'https://login.corp.example', 'sub-123', ctx), true);
    assert.equal(await s.identity.links.unlink(user.id, 'https://login.corp.example', 'sub-123', ctx), false);
    const unlinked = (await s.audit.list({ action: 'identity.unlinked' })).records;
    assert.equal(unlinked.length, 1);
    assert.deepEqual(unlinked[0].before, { issuer: 'https://login.corp.example', subject: 'sub-123' });
    assert.ok(!JSON.stringify(await s.audit.list({ limit: 500 })).includes('provider client secret'));
  } finally {
    await server.stop();
  }
});
