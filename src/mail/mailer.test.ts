import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../util/logger.ts';
import { createMailer, fromAddress, parseSmtpUrl } from './mailer.ts';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.ts';

let smtp: TestSmtp;
before(async () => {
  smtp = await startTestSmtp();
});
after(async () => smtp.close());

function capture() {
  const lines: string[] = [];
  const logger = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  return { logger, lines };
}

test('smtp and smtps URLs: host, port defaults, TLS mode, percent-decoded credentials', () => {
  assert.deepEqual(parseSmtpUrl('smtp://u%40x:p%3Aw@mail.example.com'), { host: 'mail.example.com', port: 587, secure: false, auth: { user: 'u@x', pass: 'p:w' } });
  assert.deepEqual(parseSmtpUrl('smtps://mail.example.com'), { host: 'mail.example.com', port: 465, secure: true });
  assert.equal(parseSmtpUrl('smtp://[::1]:2525').host, '::1');
  for (const bad of ['http://mail.example.com', 'not a url', 'smtp://u:%zz@host']) {
    assert.throws(() => parseSmtpUrl(bad), (err: Error) => /TOLLGATE_SMTP_URL/.test(err.message) && !err.message.includes('%zz'), bad);
  }
});

test('the From address defaults to the public URL host', () => {
  assert.equal(fromAddress({ mailFrom: undefined, publicUrl: 'https://auth.example.com' }), 'Tollgate <tollgate@auth.example.com>');
  assert.equal(fromAddress({ mailFrom: 'Ops <ops@example.com>', publicUrl: 'https://auth.example.com' }), 'Ops <ops@example.com>');
});

test('a configured mailer delivers to a real SMTP server, authenticated', async () => {
  const { logger } = capture();
  const mailer = createMailer({ smtpUrl: smtp.url, mailFrom: undefined, publicUrl: 'http://127.0.0.1:1' }, logger);
  assert.equal(mailer.configured, true);
  assert.equal(await mailer.send({ to: 'ada@example.com', subject: 'Hello Ada', text: 'Line one\nhttps://example.com/x?token=abc' }), true);
  const m = await smtp.waitFor((x) => x.subject === 'Hello Ada');
  assert.deepEqual(m.to, ['ada@example.com']);
  assert.equal(m.from, 'tollgate@127.0.0.1');
  assert.match(m.text, /https:\/\/example\.com\/x\?token=abc/);
  mailer.close();
});

test('a failure (wrong password) returns false and logs no secret', async () => {
  const { logger, lines } = capture();
  const badUrl = smtp.url.replace(encodeURIComponent(smtp.password), 'wrong-password-xyz');
  const mailer = createMailer({ smtpUrl: badUrl, mailFrom: undefined, publicUrl: 'http://127.0.0.1:1' }, logger);
  const failuresBefore = smtp.authFailures;
  assert.equal(await mailer.send({ to: 'ada@example.com', subject: 'Never', text: 'secret link https://x/y?token=t0ps3cret' }), false);
  assert.equal(smtp.authFailures, failuresBefore + 1);
  const log = lines.join('');
  assert.match(log, /mail_failed/);
  for (const secret of ['wrong-password-xyz', 't0ps3cret', Buffer.from('\u0000mailer\u0000wrong-password-xyz').toString('base64')]) assert.ok(!log.includes(secret), secret);
  mailer.close();
});

test('an unreachable server returns false quickly enough; no SMTP URL means nothing is sent', async () => {
  const { logger } = capture();
  const mailer = createMailer({ smtpUrl: 'smtp://u:p@127.0.0.1:1', mailFrom: undefined, publicUrl: 'http://127.0.0.1:1' }, logger);
  assert.equal(await mailer.send({ to: 'a@example.com', subject: 's', text: 't' }), false);
  const off = createMailer({ smtpUrl: undefined, mailFrom: undefined, publicUrl: 'http://127.0.0.1:1' }, logger);
  assert.equal(off.configured, false);
  assert.equal(await off.send({ to: 'a@example.com', subject: 's', text: 't' }), false);
});
