// Requirements (OAuth §3, sign-in): one generic message for any failed sign-in, a throttle on repeated failures per
// account and per IP, a session cookie that is HttpOnly and SameSite=Lax (Secure on https), CSRF on every form,
// no open redirect after sign-in, and sign-out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { browserRequest, CookieJar, parseForms } from './helpers/oauth-flow.ts';
import { GENERIC_LOGIN_ERROR, safeNextPath } from '../src/web/login.ts';

async function signIn(srv: TestServer, jar: CookieJar, email: string, password: string, next = '/') {
  const page = await browserRequest(jar, `${srv.url}/login?next=${encodeURIComponent(next)}`);
  const form = parseForms(page.body, page.url).find((f) => f.action.endsWith('/login'))!;
  return browserRequest(jar, form.action, { form: { ...form.fields, email, password } });
}

describe('Sign-in', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_LOGIN_MAX_FAILURES: '2' } });
    await srv.services.accounts.users.createUser({ email: 'second@example.com', password: 'another long password' });
    await srv.services.accounts.users.createUser({ email: 'third@example.com', password: 'yet another password' });
  });
  after(async () => srv.stop());

  test('a wrong password and an unknown account get the same generic message', async () => {
    const a = await signIn(srv, new CookieJar(), ADMIN_EMAIL, 'wrong password!!');
    const b = await signIn(srv, new CookieJar(), 'nobody@example.com', 'wrong password!!');
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    for (const r of [a, b]) assert.ok(r.body.includes(GENERIC_LOGIN_ERROR));
    const strip = (s: string) => s.replace(/value="[^"]*"/g, '').replace(/<code>[^<]*<\/code>/g, '');
    assert.equal(strip(a.body), strip(b.body).replace('nobody@example.com', ADMIN_EMAIL));
  });

  test('a successful sign-in sets an HttpOnly, SameSite=Lax session cookie and returns to a local next path only', async () => {
    const jar = new CookieJar();
    const r = await signIn(srv, jar, ADMIN_EMAIL, ADMIN_PASSWORD, '/authorize?client_id=x');
    assert.equal(r.status, 303);
    assert.equal(r.location, `${srv.url}/authorize?client_id=x`);
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('tollgate_session='))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.doesNotMatch(cookie, /Secure/i, 'plain http in tests');
    for (const evil of ['//evil.com/x', '/\\evil.com', 'https://evil.com', 'javascript:alert(1)', '/ok\r\nSet-Cookie: x=1']) assert.equal(safeNextPath(evil), '/', evil);
    const open = await signIn(srv, new CookieJar(), ADMIN_EMAIL, ADMIN_PASSWORD, '//evil.com/');
    assert.equal(open.location, `${srv.url}/`);
  });

  test('the sign-in form without its CSRF token, or with another browser\'s, is refused', async () => {
    const jar = new CookieJar();
    const page = await browserRequest(jar, `${srv.url}/login`);
    const form = parseForms(page.body, page.url).find((f) => f.action.endsWith('/login'))!;
    const r = await browserRequest(jar, form.action, { form: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, next: '/' } });
    assert.equal(r.status, 400);
    assert.equal(r.headers.getSetCookie().some((c) => c.startsWith('tollgate_session=')), false);
    const other = new CookieJar();
    const r2 = await browserRequest(other, form.action, { form: { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    assert.equal(r2.status, 400);
  });

  test('repeated failures throttle the account (even with the right password), then the IP', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await signIn(srv, new CookieJar(), 'second@example.com', 'wrong password!!')).status, 401);
    const locked = await signIn(srv, new CookieJar(), 'second@example.com', 'another long password');
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    assert.match(locked.body, /Too many failed sign-in attempts/);
    // Another account from the same IP still works until the IP limit (2 × 5 failures in the window).
    assert.equal((await signIn(srv, new CookieJar(), 'third@example.com', 'yet another password')).status, 303);
    await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(srv, new CookieJar(), `spray${i}@example.com`, 'wrong password!!')));
    assert.equal((await signIn(srv, new CookieJar(), 'third@example.com', 'yet another password')).status, 429);
  });

  test('sign-out needs the CSRF token and ends the session', async () => {
    const other = await startTestServer();
    try {
      const jar = new CookieJar();
      assert.equal((await signIn(other, jar, ADMIN_EMAIL, ADMIN_PASSWORD)).status, 303);
      const home = await browserRequest(jar, `${other.url}/`);
      assert.match(home.body, /signed in as/);
      const form = parseForms(home.body, home.url).find((f) => f.action.endsWith('/logout'))!;
      const forged = await browserRequest(jar, form.action, { form: {} });
      assert.equal(forged.status, 400);
      assert.match((await browserRequest(jar, `${other.url}/`)).body, /signed in as/);
      const out = await browserRequest(jar, form.action, { form: form.fields });
      assert.equal(out.status, 303);
      assert.doesNotMatch((await browserRequest(jar, `${other.url}/`)).body, /signed in as/);
    } finally {
      await other.stop();
    }
  });
});

describe('Sign-in behind an https public URL', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_PUBLIC_URL: 'https://tollgate.example' } });
  });
  after(async () => srv.stop());

  test('the session and pre-session cookies are Secure', async () => {
    const base = `http://127.0.0.1:${srv.port}`;
    const jar = new CookieJar();
    const page = await browserRequest(jar, `${base}/login`);
    assert.match(page.headers.getSetCookie().find((c) => c.startsWith('tollgate_csrf='))!, /Secure/);
    const form = parseForms(page.body, base + '/login').find((f) => f.action.endsWith('/login'))!;
    const r = await browserRequest(jar, `${base}/login`, { form: { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    assert.equal(r.status, 303);
    assert.match(r.headers.getSetCookie().find((c) => c.startsWith('tollgate_session='))!, /Secure/);
  });
});
