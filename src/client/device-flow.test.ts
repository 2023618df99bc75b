// The CLI side of RFC 8628 §3.4–3.5: pollForDeviceToken against a local server playing the token endpoint.
// authorization_pending keeps polling; slow_down adds 5 s to the interval for good; access_denied and expired_token
// end the login with a clear error and no further polls. Seconds are scaled to milliseconds (intervalScale).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEVICE_CODE_GRANT, pollForDeviceToken, requestDeviceAuthorization, type DeviceAuthorization } from './device-flow.ts';
import type { AuthorizationServerMetadata } from './discovery.ts';
import type { ClientRegistration } from './credential-store.ts';
import type { Progress } from './progress.ts';
import { ClientError, OAuthResponseError } from './http.ts';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}
interface Poll {
  at: number;
  form: URLSearchParams;
}

let server: Server;
let base: string;
/** What the token endpoint answers next, in order; the last one repeats. */
let script: Answer[] = [];
let polls: Poll[] = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      polls.push({ at: performance.now(), form: new URLSearchParams(body) });
      const answer = script[Math.min(polls.length - 1, script.length - 1)];
      res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const metadata = (): AuthorizationServerMetadata => ({ issuer: base, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, device_authorization_endpoint: `${base}/device_authorization` });
const client: ClientRegistration = { clientId: 'cli-123', authMethod: 'none', redirectUris: [], source: 'dynamic', registeredAt: new Date(0).toISOString() };
const device = (over: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({ deviceCode: 'dev-code-abc', userCode: 'BCDF-GHJK', verificationUri: 'https://as.example/device?secret=1', expiresIn: 600, interval: 5, ...over });
const recordingProgress = () => {
  const notes: string[] = [];
  const progress: Progress = { step: () => {}, note: (t) => notes.push(t), stop: () => {} };
  return { notes, progress };
};
const oauthErr = (error: string): Answer => ({ status: 400, body: { error, error_description: `the server says ${error}` } });
const tokens: Answer = { status: 200, body: { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt-1', scope: 'mcp:read' } };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reset(answers: Answer[]): void {
  script = answers;
  polls = [];
}

/** Milliseconds per second of interval: 5 s becomes 25 ms. */
const SCALE = 5;

test('authorization_pending keeps polling with the device code grant; then the tokens', async () => {
  reset([oauthErr('authorization_pending'), oauthErr('authorization_pending'), tokens]);
  const { notes, progress } = recordingProgress();
  const set = await pollForDeviceToken({ metadata: metadata(), client, device: device(), progress, intervalScale: SCALE });
  assert.equal(set.accessToken, 'at-1');
  assert.equal(set.refreshToken, 'rt-1');
  assert.equal(polls.length, 3);
  for (const p of polls) {
    assert.equal(p.form.get('grant_type'), DEVICE_CODE_GRANT);
    assert.equal(p.form.get('device_code'), 'dev-code-abc');
    assert.equal(p.form.get('client_id'), 'cli-123');
  }
  assert.deepEqual(notes, [], 'pending is not a reason to slow down');
});

test('access_denied ends the login with a clear error and stops polling', async () => {
  reset([oauthErr('authorization_pending'), oauthErr('access_denied'), tokens]);
  const { progress } = recordingProgress();
  const err = await pollForDeviceToken({ metadata: metadata(), client, device: device(), progress, intervalScale: SCALE }).then(
    () => assert.fail('a denied login must not succeed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ClientError, String(err));
  assert.ok(!(err instanceof OAuthResponseError), 'a message for the user, not the raw OAuth answer');
  assert.match(err.message, /denied/);
  // The verification URI is named without its query string.
  assert.match(err.message, /https:\/\/as\.example\/device(?!\?)/);
  assert.doesNotMatch(err.message, /secret=1/);
  assert.equal(polls.length, 2);
  await wait(5 * SCALE * 4);
  assert.equal(polls.length, 2, 'no poll after the denial');
});

test('expired_token ends the login with a clear error and stops polling', async () => {
  reset([oauthErr('authorization_pending'), oauthErr('expired_token'), tokens]);
  const { progress } = recordingProgress();
  await assert.rejects(
    pollForDeviceToken({ metadata: metadata(), client, device: device(), progress, intervalScale: SCALE }),
    (e: unknown) => e instanceof ClientError && !(e instanceof OAuthResponseError) && /expired/.test(e.message) && /login again/.test(e.message),
  );
  assert.equal(polls.length, 2);
  await wait(5 * SCALE * 4);
  assert.equal(polls.length, 2, 'no poll after the expiry');
});

test('slow_down adds 5 s to the interval each time, for good (RFC 8628 §3.5)', async () => {
  // 20 ms a second: 5 s → 100 ms, then 10 s → 200 ms, 15 s → 300 ms, and it stays 300 ms after a pending.
  const scale = 20;
  reset([oauthErr('slow_down'), oauthErr('slow_down'), oauthErr('authorization_pending'), tokens]);
  const { notes, progress } = recordingProgress();
  const started = performance.now();
  const set = await pollForDeviceToken({ metadata: metadata(), client, device: device(), progress, intervalScale: scale });
  assert.equal(set.accessToken, 'at-1');
  assert.equal(polls.length, 4);
  assert.deepEqual(notes, ['The server asked to poll more slowly: every 10 s.', 'The server asked to poll more slowly: every 15 s.']);
  const gaps = [polls[0].at - started, polls[1].at - polls[0].at, polls[2].at - polls[1].at, polls[3].at - polls[2].at];
  // Lower bounds only (a timer never fires much early; a busy machine may fire it late). 5 ms slack for rounding.
  const expected = [5, 10, 15, 15].map((s) => s * scale - 5);
  gaps.forEach((gap, i) => assert.ok(gap >= expected[i], `gap ${i} was ${gap.toFixed(1)} ms, expected at least ${expected[i]} ms (gaps ${gaps.map((g) => g.toFixed(0)).join(', ')})`));
});

test('another error (invalid_grant) ends the login with the server\'s answer; a device code past its lifetime is not polled', async () => {
  reset([oauthErr('invalid_grant')]);
  const { progress } = recordingProgress();
  await assert.rejects(
    pollForDeviceToken({ metadata: metadata(), client, device: device(), progress, intervalScale: SCALE }),
    (e: unknown) => e instanceof OAuthResponseError && e.status === 400 && e.error === 'invalid_grant',
  );
  assert.equal(polls.length, 1);

  // expires_in shorter than the first interval: the client gives up without a poll.
  reset([tokens]);
  await assert.rejects(
    pollForDeviceToken({ metadata: metadata(), client, device: device({ expiresIn: 0.001 }), progress, intervalScale: SCALE }),
    (e: unknown) => e instanceof ClientError && /expired/.test(e.message),
  );
  assert.equal(polls.length, 0);
});

test('requestDeviceAuthorization: the server\'s refusal (unauthorized_client, 429 temporarily_unavailable) becomes an OAuthResponseError', async () => {
  for (const answer of [oauthErr('unauthorized_client'), { status: 429, body: { error: 'temporarily_unavailable', error_description: 'Too many device authorization requests' } }]) {
    reset([answer]);
    await assert.rejects(
      requestDeviceAuthorization({ metadata: metadata(), client, scope: 'mcp:read' }),
      (e: unknown) => e instanceof OAuthResponseError && e.status === answer.status && e.error === answer.body.error && /device authorization endpoint/.test(e.message),
    );
    assert.equal(polls.length, 1);
    assert.equal(polls[0].form.get('client_id'), 'cli-123');
    assert.equal(polls[0].form.get('scope'), 'mcp:read');
  }
});
