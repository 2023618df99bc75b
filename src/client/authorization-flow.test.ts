import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { authorize, buildAuthorizationUrl, checkAuthorizationResponse } from './authorization-flow.ts';
import type { ClientRegistration } from './credential-store.ts';
import { listenForCallback } from './loopback-callback.ts';
import { createProgress } from './progress.ts';
import { s256 } from './pkce.ts';

const metadata = { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/authorize?tenant=1', token_endpoint: 'https://as.example/token' };
const expected = { state: 'st-1', issuer: 'https://as.example', issRequired: false, bareCode: false };
const q = (s: string) => new URLSearchParams(s);

test('the authorization request carries PKCE S256, state, scope and the exact resource', () => {
  const url = new URL(buildAuthorizationUrl({ metadata, clientId: 'c1', redirectUri: 'http://127.0.0.1:20001/callback', codeChallenge: s256('v'), state: 'st', scope: 'a b', resource: 'https://h/ws/mcp' }));
  const p = url.searchParams;
  assert.equal(p.get('tenant'), '1', 'keeps the endpoint query');
  assert.deepEqual([p.get('response_type'), p.get('code_challenge_method'), p.get('code_challenge'), p.get('state'), p.get('scope'), p.get('resource')], ['code', 'S256', s256('v'), 'st', 'a b', 'https://h/ws/mcp']);
  assert.equal(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'RFC 7636 appendix B');
});

test('state and RFC 9207 iss are checked; a bare code skips them', () => {
  assert.equal(checkAuthorizationResponse(q('code=c&state=st-1'), expected), 'c');
  assert.equal(checkAuthorizationResponse(q('code=c&state=st-1&iss=https%3A%2F%2Fas.example'), expected), 'c');
  assert.throws(() => checkAuthorizationResponse(q('code=c&state=other'), expected), /state mismatch/);
  assert.throws(() => checkAuthorizationResponse(q('code=c&state=st-1&iss=https%3A%2F%2Fas.example%2F'), expected), /RFC 9207/, 'no normalisation');
  assert.throws(() => checkAuthorizationResponse(q('code=c&state=st-1'), { ...expected, issRequired: true }), /promised an iss/);
  assert.equal(checkAuthorizationResponse(q('code=c'), { ...expected, issRequired: true, bareCode: true }), 'c');
  assert.throws(() => checkAuthorizationResponse(q('error=access_denied&state=st-1'), expected), /declined/);
});

/** A terminal stream: what was written, in order. */
function terminal() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { stream: Object.assign(stream, { isTTY: true }) as unknown as NodeJS.WriteStream, writes };
}

test('paste-back: the spinner is stopped and cleared, and what is pasted starts on a line of its own', async () => {
  const tty = terminal();
  const progress = createProgress(tty.stream, true);
  progress.step('Registering the client'); // a spinner is running when the sign-in starts
  const listener = await listenForCallback({ port: 0 });
  let beforePaste = '';
  try {
    const grant = authorize({
      metadata,
      client: { clientId: 'c1', source: 'dynamic' } as ClientRegistration,
      listener,
      prompt: {
        label: 'demo',
        progress,
        readPastedLines: () => ({
          lines: (async function* () {
            await new Promise((r) => setTimeout(r, 350)); // the user takes a moment: a live spinner would redraw
            beforePaste = tty.writes.join('');
            yield 'Zx8_k-2Qa9-pasted';
          })(),
          close() {},
        }),
      },
    });
    assert.equal((await grant).code, 'Zx8_k-2Qa9-pasted');
  } finally {
    await listener.close();
  }
  const prompt = beforePaste.lastIndexOf('Paste here:');
  assert.ok(prompt > 0, beforePaste);
  // Where the user types: right after the prompt's newline, with no spinner frame or line clearing after it.
  assert.equal(beforePaste.slice(prompt), 'Paste here:\n');
  const spinnerClearedFirst = beforePaste.lastIndexOf('\r\x1b[2K');
  assert.ok(spinnerClearedFirst >= 0 && spinnerClearedFirst < beforePaste.indexOf('To sign in'), 'the spinner line is cleared before the instructions');
  assert.doesNotMatch(beforePaste.slice(beforePaste.indexOf('To sign in')), /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
});
