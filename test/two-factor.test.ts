// Requirements (issue 18 §5): TOTP two-factor (RFC 6238: 30 s, 6 digits, SHA-1, ±1 step, no code accepted twice):
// enrolment shows the key as text and an otpauth:// URI, and the recovery codes once; sign-in asks for the code after
// the password and gives no session before it; a wrong code, a replayed code, a missing CSRF token and a forged
// pending sign-in are refused; recovery codes work once; wrong codes are throttled; with
// TOLLGATE_REQUIRE_ADMIN_TWO_FACTOR an operator without it is sent to enrolment and gets a session only after it.
// Without SMTP, password reset is off and the sign-in page says whom to ask.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { CookieJar, getPage, postForm, submit, textOf } from './helpers/web-pages.ts';
import { browserRequest } from './helpers/oauth-flow.ts';
import { base32Decode, hotp, totpStep } from '../src/accounts/totp.ts';

describe('TOTP two-factor sign-in', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_REQUIRE_ADMIN_TWO_FACTOR: 'true', TOLLGATE_LOGIN_MAX_FAILURES: '6' } });
    await srv.services.accounts.users.createUser({ email: 'ada@example.com', password: 'ada password 1' });
  });
  after(async () => srv?.stop());

  /** Posts the sign-in form; returns the jar and the response (no redirect followed). */
  async function password(email: string, pw: string, next = '/') {
    const jar = new CookieJar();
    const r = await submit(jar, `${srv.url}/login?next=${encodeURIComponent(next)}`, '/login', { email, password: pw, next });
    return { jar, r };
  }
  const keyOf = (body: string) => base32Decode(/<code id="totp-key">([A-Z2-7 ]+)<\/code>/.exec(body)![1]);
  const code = (key: Buffer, step: number) => hotp(key, step);
  const signedIn = async (jar: CookieJar) => (await getPage(jar, `${srv.url}/`)).status === 200;

  let adaKey: Buffer;
  let adaCodes: string[];
  let step: number;

  test('enrolment: key as text, otpauth URI and QR code; a wrong code is refused; the recovery codes are shown once', async () => {
    const { jar, r } = await password('ada@example.com', 'ada password 1');
    assert.equal(r.status, 303);
    assert.equal(new URL(r.location!).pathname, '/', 'no second factor yet: a session at once');
    const page = await getPage(jar, `${srv.url}/account/two-factor`);
    assert.equal(page.status, 200);
    adaKey = keyOf(page.body);
    assert.equal(adaKey.length, 20);
    const uri = /<code id="totp-uri">([^<]*)<\/code>/.exec(page.body)![1].replace(/&amp;/g, '&');
    assert.match(uri, /^otpauth:\/\/totp\/Tollgate%20\(127\.0\.0\.1%3A\d+\):ada%40example\.com\?secret=[A-Z2-7]{32}&issuer=/);
    assert.match(page.body, /<svg class="qr" role="img"/);
    assert.deepEqual(keyOf((await getPage(jar, `${srv.url}/account/two-factor`)).body), adaKey, 'a reload shows the same key');
    step = totpStep(Date.now());
    const wrong = await submit(jar, `${srv.url}/account/two-factor`, '/account/two-factor/confirm', { code: code(adaKey, step + 3) });
    assert.equal(wrong.status, 400);
    assert.match(textOf(wrong.body), /That code is not right/);
    assert.equal((await postForm(jar, `${srv.url}/account/two-factor/confirm`, { code: code(adaKey, step) })).status, 403, 'no CSRF token');
    // The previous step's code (within ±1): leaves this step and the next for the sign-ins below.
    const ok = await submit(jar, `${srv.url}/account/two-factor`, '/account/two-factor/confirm', { code: code(adaKey, step - 1) });
    assert.equal(ok.status, 200);
    adaCodes = [...ok.body.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
    assert.equal(adaCodes.length, 10);
    const later = await getPage(jar, `${srv.url}/account/two-factor`);
    assert.match(textOf(later.body), /Two-factor sign-in is on for ada@example\.com\. 10 of 10 recovery codes left/);
    assert.ok(!adaCodes.some((c) => later.body.includes(c)), 'the codes are shown only once');
    const ada = (await srv.services.accounts.users.findUserByEmail('ada@example.com'))!;
    const enabled = (await srv.services.audit.list({ action: 'two_factor.enabled' })).records;
    assert.deepEqual(enabled.map((r) => [r.target.id, r.actor.type, r.actor.label]), [[ada.id, 'user', 'ada@example.com']]);
  });

  test('sign-in asks for the code after the password; no session before it; wrong, replayed and forged attempts are refused', async () => {
    const { jar, r } = await password('ada@example.com', 'ada password 1', '/dashboard/nowhere');
    assert.equal(r.status, 303);
    assert.equal(new URL(r.location!).pathname, '/login/two-factor');
    assert.ok(!(await signedIn(jar)), 'the password alone gives no session');
    assert.equal((await getPage(jar, `${srv.url}/login/two-factor`)).status, 200);
    const wrong = await submit(jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: '12345' });
    assert.equal(wrong.status, 401);
    assert.match(textOf(wrong.body), /That code is not right/);
    assert.equal((await postForm(jar, `${srv.url}/login/two-factor`, { code: code(adaKey, step) })).status, 403, 'no CSRF token');
    const forged = new CookieJar();
    for (const [k, v] of jar.cookies) forged.cookies.set(k, k === 'tollgate_pending_sign_in' ? v.slice(0, -4) + 'AAAA' : v);
    assert.equal((await getPage(forged, `${srv.url}/login/two-factor`)).status, 303, 'a tampered pending sign-in is no sign-in');
    const replayedEnrolCode = await submit(jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: code(adaKey, step - 1) });
    assert.equal(replayedEnrolCode.status, 401, 'the step used at enrolment is spent');
    const ok = await submit(jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: code(adaKey, step) });
    assert.equal(ok.status, 303);
    assert.equal(new URL(ok.location!).pathname, '/dashboard/nowhere', 'back to where the sign-in started');
    assert.ok(await signedIn(jar));

    const second = await password('ada@example.com', 'ada password 1');
    const replay = await submit(second.jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: code(adaKey, step) });
    assert.equal(replay.status, 401);
    assert.match(textOf(replay.body), /already used/);
    assert.ok(!(await signedIn(second.jar)));
    const recovery = await submit(second.jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: adaCodes[0].toUpperCase() });
    assert.equal(recovery.status, 303);
    assert.ok(await signedIn(second.jar), 'a recovery code signs in');
    const third = await password('ada@example.com', 'ada password 1');
    assert.equal((await submit(third.jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: adaCodes[0] })).status, 401, 'a recovery code works once');
    const wrongPassword = await password('ada@example.com', 'not the password');
    assert.equal(wrongPassword.r.status, 401, 'the second step comes only after a right password');
  });

  test('wrong codes are throttled per account', async () => {
    const { jar } = await password('ada@example.com', 'ada password 1');
    let last = 0;
    for (let i = 0; i < 8 && last !== 429; i++) last = (await submit(jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: '000000' })).status;
    assert.equal(last, 429);
    const right = await submit(jar, `${srv.url}/login/two-factor`, '/login/two-factor', { code: code(adaKey, totpStep(Date.now()) + 1) });
    assert.equal(right.status, 429, 'even the right code waits out the window');
    assert.ok(!(await signedIn(jar)));
  });

  test('an operator without two-factor is sent to enrolment and gets a session only once it is set up; they cannot turn it off', async () => {
    const { jar, r } = await password(ADMIN_EMAIL, ADMIN_PASSWORD, '/admin/users');
    assert.equal(r.status, 303);
    assert.equal(new URL(r.location!).pathname, '/account/two-factor');
    assert.ok(!(await signedIn(jar)), 'no session before enrolment');
    assert.equal((await getPage(jar, `${srv.url}/admin/users`)).status, 303);
    const page = await getPage(jar, `${srv.url}/account/two-factor`);
    assert.match(textOf(page.body), /requires two-factor sign-in for operators/);
    const key = keyOf(page.body);
    const now = totpStep(Date.now());
    const done = await submit(jar, `${srv.url}/account/two-factor`, '/account/two-factor/confirm', { code: code(key, now) });
    assert.equal(done.status, 200);
    const cont = /<a class="button primary" href="([^"]+)">Continue<\/a>/.exec(done.body)![1];
    assert.equal(cont, '/admin/users');
    assert.equal((await getPage(jar, `${srv.url}/admin/users`)).status, 200, 'signed in now');
    const manage = await getPage(jar, `${srv.url}/account/two-factor`);
    assert.match(textOf(manage.body), /must keep two-factor sign-in on/);
    const off = await submit(jar, `${srv.url}/account/two-factor`, '/account/two-factor/disable', { code: code(key, now + 1) });
    assert.equal(off.status, 400);
    assert.equal(await srv.services.twoFactor.status((await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!.id), 'on');
  });

  test('without SMTP, password reset is off and the sign-in page says whom to ask', async () => {
    const login = await browserRequest(new CookieJar(), `${srv.url}/login`);
    assert.match(textOf(login.body), /Ask the person who runs this server to reset it/);
    assert.ok(!login.body.includes('href="/password-reset"'));
    assert.equal((await getPage(new CookieJar(), `${srv.url}/password-reset`)).status, 404);
  });

  test('the log holds no TOTP code, key or recovery code', () => {
    const log = srv.logs.join('\n');
    assert.match(log, /two_factor_failed/);
    assert.ok(!adaCodes.some((c) => log.includes(c)));
    assert.ok(!log.includes(adaKey.toString('base64url')));
  });
});
