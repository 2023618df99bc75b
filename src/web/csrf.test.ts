import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { csrfGuard, PRE_SESSION_COOKIE, type CsrfGuard } from './csrf.ts';
import { SESSION_COOKIE } from './session.ts';

/** A tiny app around one guard: GET /t?signedIn=1 gives a token, GET /v?token=… says whether it verifies. */
function appWith(guard: CsrfGuard) {
  const app = new Hono();
  app.get('/t', (c) => c.text(guard.token(c, c.req.query('signedIn') === '1')));
  app.get('/v', (c) => c.text(String(guard.verify(c, c.req.query('token'), c.req.query('signedIn') === '1'))));
  return app;
}
const verifies = async (app: Hono, token: string, cookie: string, signedIn: boolean) =>
  (await (await app.request(`/v?token=${encodeURIComponent(token)}&signedIn=${signedIn ? 1 : 0}`, { headers: { cookie } })).text()) === 'true';

test('a guard\'s tokens verify only with the same secret and the same browser cookie', async () => {
  const app = appWith(csrfGuard('server secret', { secureCookies: true }));
  const again = appWith(csrfGuard('server secret', { secureCookies: true }));
  const foreign = appWith(csrfGuard('another secret', { secureCookies: true }));

  const session = `${SESSION_COOKIE}=session-id`;
  const signedInToken = await (await app.request('/t?signedIn=1', { headers: { cookie: session } })).text();
  assert.equal(await verifies(app, signedInToken, session, true), true);
  assert.equal(await verifies(again, signedInToken, session, true), true, 'same secret, same key: another process accepts it');
  assert.equal(await verifies(foreign, signedInToken, session, true), false);
  assert.equal(await verifies(app, signedInToken, `${SESSION_COOKIE}=another-session`, true), false);
  assert.equal(await verifies(app, signedInToken, session, false), false, 'a session token is no pre-session token');

  // The sign-in form: the pre-session cookie is set (Secure on https) and binds the token.
  const res = await app.request('/t');
  const setCookie = res.headers.get('set-cookie') ?? '';
  assert.match(setCookie, new RegExp(`^${PRE_SESSION_COOKIE}=[^;]+;.*HttpOnly.*Secure.*SameSite=Lax`, 'i'));
  const pre = setCookie.split(';')[0];
  const preToken = await res.text();
  assert.equal(await verifies(app, preToken, pre, false), true);
  assert.equal(await verifies(app, preToken, `${PRE_SESSION_COOKIE}=other`, false), false);
  assert.equal(await verifies(app, '', pre, false), false);
  assert.equal(await verifies(app, 'x'.repeat(129), pre, false), false);
});
