// Small HTTP helpers shared by the client: timeouts, JSON bodies, OAuth error bodies, and the errors the CLI
// shows to the user.
import { isObject } from '../util/json.ts';
import { UserFacingError } from '../util/errors.ts';

export const USER_AGENT = 'tollgate-cli/0.1';

/** The MCP revision the client asks for in `initialize` and sends on metadata requests. */
export const CLIENT_PROTOCOL_VERSION = '2025-11-25';

/** A failure the user can act on; the CLI prints the message alone. */
export class ClientError extends UserFacingError {}

/** Signing in is needed and this context may not start it (no terminal, no browser, or the proxy). */
export class SignInRequiredError extends ClientError {
  readonly serverName: string | undefined;
  constructor(message: string, serverName?: string) {
    super(message);
    this.serverName = serverName;
  }
}

/** An OAuth error response (RFC 6749 §5.2) from a token, registration or revocation endpoint. */
export class OAuthResponseError extends ClientError {
  readonly status: number;
  readonly error: string;
  readonly description: string | undefined;
  constructor(endpoint: string, status: number, error: string, description?: string) {
    super(`${endpoint} answered ${status} ${error}${description ? `: ${description}` : ''}`);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

export interface FetchOptions extends RequestInit {
  timeoutMs?: number;
}

/** fetch with a timeout and our User-Agent; network failures become a ClientError that names the URL. */
export async function httpFetch(url: string | URL, options: FetchOptions = {}): Promise<Response> {
  const { timeoutMs = 30_000, headers, signal, ...rest } = options;
  const h = new Headers(headers);
  if (!h.has('user-agent')) h.set('user-agent', USER_AGENT);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, { ...rest, headers: h, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = err as Error & { cause?: { code?: string } };
    const why = timeout.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (e.cause?.code ?? e.message);
    throw new ClientError(`Cannot reach ${displayUrl(url)} (${why})`);
  }
}

/** The URL without its query string (which may carry codes or state) for messages. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    u.search = '';
    u.hash = '';
    return u.href;
  } catch {
    return String(url).split('?')[0];
  }
}

/** Parses a response body as a JSON object; undefined when it is not one. */
export async function readJsonObject(res: Response): Promise<Record<string, unknown> | undefined> {
  const text = await res.text().catch(() => '');
  try {
    const v = JSON.parse(text) as unknown;
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Reads an OAuth error body into an OAuthResponseError (a non-JSON body still yields a useful message). */
export async function oauthError(endpoint: string, res: Response): Promise<OAuthResponseError> {
  const body = await readJsonObject(res);
  const error = typeof body?.error === 'string' ? body.error : `http_${res.status}`;
  const description = typeof body?.error_description === 'string' ? body.error_description : undefined;
  return new OAuthResponseError(endpoint, res.status, error, description);
}

export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** OAuth 2.1 §1.5: endpoints must use TLS; plain http is accepted only on loopback (local servers, tests). */
export function assertSecureEndpoint(name: string, raw: unknown): string {
  if (typeof raw !== 'string' || !raw) throw new ClientError(`The authorization server metadata has no ${name}`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ClientError(`The authorization server's ${name} is not a URL: ${raw}`);
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname))) return raw;
  throw new ClientError(`Refusing the authorization server's ${name} ${displayUrl(raw)}: it must use https`);
}
