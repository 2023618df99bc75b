// The authorization code flow's front channel: build the request (PKCE S256, state, resource), show it, then take
// whichever answer comes first — the loopback callback or a pasted URL / query string / code — and check it.
import type { AuthorizationServerMetadata } from './discovery.ts';
import type { ClientRegistration } from './credential-store.ts';
import type { CallbackListener } from './loopback-callback.ts';
import { parsePastedResponse } from './paste-back.ts';
import type { Progress } from './progress.ts';
import { createPkce, createState } from './pkce.ts';
import { ClientError } from './http.ts';

export interface SignInPrompt {
  progress: Progress;
  /** Opens a browser on the URL; false (or absent) when there is none. */
  openBrowser?: (url: string) => boolean;
  /** Starts reading pasted lines; absent when nobody can paste (the stdio proxy). */
  readPastedLines?: () => { lines: AsyncIterable<string>; close(): void };
  /** A name for the server in messages. */
  label: string;
}

export interface AuthorizationRequest {
  metadata: AuthorizationServerMetadata;
  client: ClientRegistration;
  listener: CallbackListener;
  scope?: string;
  resource?: string;
  prompt: SignInPrompt;
  timeoutMs?: number;
}

export interface AuthorizationGrant {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export function buildAuthorizationUrl(input: { metadata: AuthorizationServerMetadata; clientId: string; redirectUri: string; codeChallenge: string; state: string; scope?: string; resource?: string }): string {
  const url = new URL(input.metadata.authorization_endpoint);
  const p = url.searchParams;
  p.set('response_type', 'code');
  p.set('client_id', input.clientId);
  p.set('redirect_uri', input.redirectUri);
  // RFC 7636 §4.3, OAuth 2.1 §7.5.2: S256 only.
  p.set('code_challenge', input.codeChallenge);
  p.set('code_challenge_method', 'S256');
  p.set('state', input.state);
  if (input.scope) p.set('scope', input.scope);
  // RFC 8707 §2.1: the resource the token is for, exactly as its protected-resource metadata publishes it.
  if (input.resource) p.set('resource', input.resource);
  return url.href;
}

/** Checks an authorization response (state, RFC 9207 iss, error) and returns its code; throws when it fails. */
export function checkAuthorizationResponse(params: URLSearchParams, expected: { state: string; issuer: string; issRequired: boolean; bareCode: boolean }): string {
  if (!expected.bareCode) {
    // RFC 6749 §10.12: the state must be the one we sent (CSRF).
    if (params.get('state') !== expected.state) throw new ClientError('The sign-in answer does not belong to this sign-in (state mismatch); start again');
    // RFC 9207 §2.4: iss, when present (or promised by the metadata), must be the issuer we talked to (mix-up).
    const iss = params.get('iss');
    if (iss !== null && iss !== expected.issuer) {
      throw new ClientError(`The sign-in answer comes from issuer ${JSON.stringify(iss)}, not ${JSON.stringify(expected.issuer)}; refusing it (RFC 9207)`);
    }
    if (iss === null && expected.issRequired) throw new ClientError('The authorization server promised an iss parameter in its answer but sent none; refusing it (RFC 9207)');
  }
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    throw new ClientError(error === 'access_denied' ? `Sign-in was declined${description ? `: ${description}` : ''}` : `The authorization server refused the sign-in: ${error}${description ? ` (${description})` : ''}`);
  }
  const code = params.get('code');
  if (!code) throw new ClientError('The sign-in answer has no code');
  return code;
}

function instructions(url: string, listener: CallbackListener, opened: boolean, canPaste: boolean, label: string): string {
  const lines = [`To sign in to ${label}, open this URL in a browser:`, '', `  ${url}`, ''];
  if (opened) lines.push('(A browser window was opened.)');
  lines.push(`Waiting for the browser to come back to ${listener.redirectUri} …`);
  if (canPaste) {
    lines.push(
      'No browser on this machine? Sign in on any machine, then paste here the address the browser ended up on',
      '(a page that failed to load is fine; on a "return to your app" page, copy its link), its query string,',
      'or just the code. Or forward the callback port:',
      `  ssh -L ${listener.port}:127.0.0.1:${listener.port} <user>@<this host>`,
    );
  }
  return lines.join('\n');
}

/** Runs the front channel and returns the checked code with its verifier. */
export async function authorize(req: AuthorizationRequest): Promise<AuthorizationGrant> {
  const pkce = createPkce();
  const state = createState();
  const url = buildAuthorizationUrl({
    metadata: req.metadata,
    clientId: req.client.clientId,
    redirectUri: req.listener.redirectUri,
    codeChallenge: pkce.challenge,
    state,
    scope: req.scope,
    resource: req.resource,
  });
  const expected = { state, issuer: req.metadata.issuer, issRequired: req.metadata.authorization_response_iss_parameter_supported === true };
  const { prompt } = req;
  const opened = prompt.openBrowser?.(url) ?? false;
  const paste = prompt.readPastedLines?.();
  if (paste) {
    // Someone may type or paste at the terminal: no spinner redrawing the cursor's line, and the pasted text starts
    // on a line of its own under the instructions.
    prompt.progress.stop();
    prompt.progress.note(instructions(url, req.listener, opened, true, prompt.label) + '\nPaste here:');
  } else {
    prompt.progress.note(instructions(url, req.listener, opened, false, prompt.label));
    prompt.progress.step('Waiting for the sign-in');
  }

  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = req.timeoutMs ?? 300_000;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClientError(`The sign-in did not complete within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  const fromListener = req.listener.result.then((params) => checkAuthorizationResponse(params, { ...expected, bareCode: false }));
  const fromPaste = new Promise<string>((resolve, reject) => {
    if (!paste) return;
    (async () => {
      for await (const line of paste.lines) {
        if (!line.trim()) continue;
        const pasted = parsePastedResponse(line);
        if (!pasted) {
          prompt.progress.note('That is not a callback URL, a query string with code=…, or a code; paste it again.');
          continue;
        }
        try {
          return resolve(checkAuthorizationResponse(pasted.params, { ...expected, bareCode: pasted.bareCode }));
        } catch (err) {
          // An answer from an earlier attempt (state mismatch) can be replaced by the right one; errors end it.
          if (pasted.params.get('state') !== state && !pasted.params.get('error')) {
            prompt.progress.note(`${(err as Error).message.replace(/; start again$/, '')}. Paste the answer of the URL above.`);
            continue;
          }
          return reject(err);
        }
      }
    })().catch(reject);
  });
  try {
    const code = await Promise.race([fromListener, fromPaste, timeout]);
    return { code, codeVerifier: pkce.verifier, redirectUri: req.listener.redirectUri };
  } finally {
    clearTimeout(timer);
    paste?.close();
    prompt.progress.stop();
  }
}
