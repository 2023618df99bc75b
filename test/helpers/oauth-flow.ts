// A browserless OAuth flow driver for end-to-end tests: it registers clients, makes PKCE pairs, walks the real
// sign-in and consent pages like a browser would (cookie jar, manual redirects, the forms' own CSRF tokens) and
// exchanges codes. There is no approval shortcut in the product; this drives the same pages a person uses.
//
//   const client = await registerClient(srv.url, { redirect_uris: ['http://127.0.0.1:9/cb'] });
//   const pkce = pkcePair();
//   const url = authorizeUrl(srv.url, { client_id: client.client_id, redirect_uri: 'http://127.0.0.1:9/cb',
//     code_challenge: pkce.challenge, resource: `${srv.url}/demo/mcp`, state: 'xyz' });
//   const back = await approveAuthorization(url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
//   const tokens = await exchangeCode(srv.url, { client_id: client.client_id, code: back.searchParams.get('code')!,
//     redirect_uri: 'http://127.0.0.1:9/cb', code_verifier: pkce.verifier });
//
// Page contract the driver relies on (keep it when restyling): the sign-in form posts `email`, `password` and its
// hidden fields to /login; the consent form posts its hidden fields, a `workspace` <select> (when a picker is shown)
// and a submit button `name="decision"` with value `approve` or `deny`. The decision answers with a 303 to the
// client's redirect URI, or — for loopback and app-scheme redirect URIs — with a "return to your app" page whose
// `Refresh: 0; url=<redirect URI>` header sends the browser on; `browserRequest` reports either as `location`.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export interface ApproveOptions {
  email: string;
  password: string;
  /** The workspace slug to pick when the consent page shows a picker (shared endpoint); default: the first. */
  workspace?: string;
  /** Press Deny instead of Approve. */
  deny?: boolean;
  /** Reuse a cookie jar (e.g. to stay signed in across flows); one is created otherwise. */
  jar?: CookieJar;
  /** Submit the consent form twice (double click) and return the result of the second submit. */
  doubleSubmit?: boolean;
}

/** A minimal cookie jar: name → value, for one origin. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export interface PageResponse {
  status: number;
  url: string;
  location?: string;
  body: string;
  headers: Headers;
}

/** One browser-like request: cookies sent and stored, redirects not followed. */
export async function browserRequest(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<PageResponse> {
  const headers: Record<string, string> = { accept: 'text/html' };
  if (jar.cookies.size) headers.cookie = jar.header();
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  jar.store(res);
  const location = res.headers.get('location') ?? refreshTarget(res.headers.get('refresh')) ?? undefined;
  return { status: res.status, url, location: location ? new URL(location, url).toString() : undefined, body: await res.text(), headers: res.headers };
}

/** The URL of a `Refresh: 0; url=…` header (the "return to your app" page after consent). */
function refreshTarget(header: string | null): string | undefined {
  return header ? /^\s*\d+\s*[;,]\s*url\s*=\s*(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

const decode = (s: string): string =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;/g, '/').replace(/&amp;/g, '&');

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? decode(m[2] ?? m[3] ?? m[4] ?? '') : undefined;
}

export interface ParsedForm {
  action: string;
  fields: Record<string, string>;
  /** `<select>` name → option values. */
  selects: Record<string, string[]>;
  /** Submit buttons: name → values. */
  buttons: Record<string, string[]>;
}

/** The forms of an HTML page, by their action path. */
export function parseForms(page: string, baseUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const m of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = new URL(attr(m[1], 'action') ?? '', baseUrl).toString();
    const fields: Record<string, string> = {};
    const selects: Record<string, string[]> = {};
    const buttons: Record<string, string[]> = {};
    for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name) fields[name] = attr(input[0], 'value') ?? '';
    }
    for (const sel of m[2].matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const name = attr(sel[1], 'name');
      if (name) selects[name] = [...sel[2].matchAll(/<option\b[^>]*>/gi)].map((o) => attr(o[0], 'value') ?? '');
    }
    for (const b of m[2].matchAll(/<button\b[^>]*>/gi)) {
      const name = attr(b[0], 'name');
      if (name) (buttons[name] ??= []).push(attr(b[0], 'value') ?? '');
    }
    forms.push({ action, fields, selects, buttons });
  }
  return forms;
}

function pageText(body: string): string {
  return body.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 400);
}

/**
 * Follows an authorization URL like a browser: signs in through the real sign-in form when asked, submits the
 * real consent form (choosing `workspace` when a picker is shown), and returns the final redirect to the client's
 * redirect_uri — not followed. Throws with the page's text when a page other than sign-in or consent is shown.
 */
export async function approveAuthorization(authorizeUrl: string, opts: ApproveOptions): Promise<URL> {
  const jar = opts.jar ?? new CookieJar();
  const origin = new URL(authorizeUrl).origin;
  let res = await browserRequest(jar, authorizeUrl);
  for (let step = 0; step < 10; step++) {
    if (res.location) {
      if (new URL(res.location).origin !== origin) return new URL(res.location);
      res = await browserRequest(jar, res.location);
      continue;
    }
    if (res.status !== 200 && !(res.status === 401 && /\/login/.test(res.url))) throw new Error(`Authorization stopped at ${res.url} with HTTP ${res.status}: ${pageText(res.body)}`);
    const forms = parseForms(res.body, res.url);
    const login = forms.find((f) => new URL(f.action).pathname === '/login');
    if (login) {
      if (res.status === 401) throw new Error(`Sign-in failed: ${pageText(res.body)}`);
      res = await browserRequest(jar, login.action, { form: { ...login.fields, email: opts.email, password: opts.password } });
      continue;
    }
    const consent = forms.find((f) => f.buttons.decision);
    if (!consent) throw new Error(`Unexpected page at ${res.url}: ${pageText(res.body)}`);
    const form: Record<string, string> = { ...consent.fields, decision: opts.deny ? 'deny' : 'approve' };
    if (!opts.deny && !consent.buttons.decision.includes('approve')) throw new Error(`The consent page offers no Approve: ${pageText(res.body)}`);
    if (consent.selects.workspace) {
      const choice = opts.workspace ?? consent.selects.workspace[0];
      if (!consent.selects.workspace.includes(choice)) throw new Error(`Workspace "${choice}" is not offered (offered: ${consent.selects.workspace.join(', ')})`);
      form.workspace = choice;
    }
    if (opts.doubleSubmit) await browserRequest(jar, consent.action, { form });
    res = await browserRequest(jar, consent.action, { form });
  }
  throw new Error('Too many steps while following the authorization flow');
}

/** A PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** `<base>/authorize?…` with code_challenge_method=S256 and response_type=code filled in. */
export function authorizeUrl(base: string, params: Record<string, string | undefined>, path = '/authorize'): string {
  const u = new URL(base + path);
  const all: Record<string, string | undefined> = { response_type: 'code', code_challenge_method: 'S256', ...params };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** Registers a client by RFC 7591 dynamic registration; throws unless the server answers 201. */
export async function registerClient(base: string, metadata: Record<string, unknown>, path = '/register'): Promise<Record<string, any>> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }) });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`Registration failed (${res.status}): ${JSON.stringify(body)}`);
  return body;
}

export interface TokenResult {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

/** POSTs a form to the token endpoint (or another form endpoint), optionally with HTTP Basic client authentication. */
export async function postForm(url: string, form: Record<string, string | undefined>, basic?: { id: string; secret: string }): Promise<TokenResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: Record<string, any>;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The authorization_code grant at `<base>/token`. */
export function exchangeCode(
  base: string,
  params: { client_id?: string; code: string; redirect_uri?: string; code_verifier?: string; resource?: string; client_secret?: string },
  basic?: { id: string; secret: string },
  path = '/token',
): Promise<TokenResult> {
  return postForm(base + path, { grant_type: 'authorization_code', ...params }, basic);
}

/** The refresh_token grant at `<base>/token`. */
export function refreshTokens(base: string, params: { client_id?: string; refresh_token: string; scope?: string; resource?: string; client_secret?: string }, basic?: { id: string; secret: string }, path = '/token'): Promise<TokenResult> {
  return postForm(base + path, { grant_type: 'refresh_token', ...params }, basic);
}

/**
 * The whole dance for a public client in one call: register (unless `clientId` is given), authorize with PKCE,
 * approve as the given user, and exchange the code. Returns the token response and what was used.
 */
export async function obtainTokens(
  base: string,
  opts: { email: string; password: string; resource?: string; scope?: string; workspace?: string; clientId?: string; redirectUri?: string; jar?: CookieJar },
): Promise<{ clientId: string; redirectUri: string; tokens: Record<string, any> }> {
  const redirectUri = opts.redirectUri ?? 'http://127.0.0.1:9/callback';
  const clientId = opts.clientId ?? (await registerClient(base, { client_name: 'Test client', redirect_uris: [redirectUri] })).client_id;
  const pkce = pkcePair();
  const url = authorizeUrl(base, { client_id: clientId, redirect_uri: redirectUri, code_challenge: pkce.challenge, resource: opts.resource, scope: opts.scope, state: 'st' });
  const back = await approveAuthorization(url, { email: opts.email, password: opts.password, workspace: opts.workspace, jar: opts.jar });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`No code in the redirect: ${back}`);
  const res = await exchangeCode(base, { client_id: clientId, code, redirect_uri: redirectUri, code_verifier: pkce.verifier });
  if (res.status !== 200) throw new Error(`Token exchange failed (${res.status}): ${JSON.stringify(res.body)}`);
  return { clientId, redirectUri, tokens: res.body };
}

/**
 * A request on its own connection (no keep-alive), for bodies a server may refuse before reading them (413): a
 * pooled connection would otherwise be reused after the server closed it.
 */
export function rawRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(init.body);
  });
}
