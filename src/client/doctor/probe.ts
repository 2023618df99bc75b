// HTTP for `tollgate doctor`: never follows redirects (a redirect is itself a finding), remembers answers so
// several client sequences can share a request, and keeps just enough of each answer to explain a failure.
import { mediaType } from '../../util/media-type.ts';
import { isObject } from '../../util/json.ts';
import { USER_AGENT } from '../http.ts';

export interface ProbeResult {
  method: string;
  url: string;
  status: number;
  headers: Headers;
  text: string;
  /** The body as a JSON object, when it is one. */
  json?: Record<string, unknown>;
  /** A network failure instead of an answer. */
  error?: string;
}

export interface ProbeRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Share the answer with other sequences (GETs of metadata); registrations and authorizations are not shared. */
  cache?: boolean;
}

export class Prober {
  private readonly cache = new Map<string, Promise<ProbeResult>>();
  private readonly timeoutMs: number;
  /** Every request made, in order (for `--verbose`). */
  readonly log: { method: string; url: string; status: number | string }[] = [];

  constructor(timeoutMs = 15_000) {
    this.timeoutMs = timeoutMs;
  }

  request(url: string, req: ProbeRequest = {}): Promise<ProbeResult> {
    const method = req.method ?? 'GET';
    const key = `${method} ${url} ${JSON.stringify(req.headers ?? {})} ${req.body ?? ''}`;
    if (req.cache !== false) {
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const p = this.send(url, method, req);
    if (req.cache !== false) this.cache.set(key, p);
    return p;
  }

  private async send(url: string, method: string, req: ProbeRequest): Promise<ProbeResult> {
    const headers = new Headers(req.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', USER_AGENT + ' (doctor)');
    try {
      const res = await fetch(url, { method, headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.text().catch(() => '');
      let json: Record<string, unknown> | undefined;
      try {
        const v = JSON.parse(text) as unknown;
        if (isObject(v)) json = v;
      } catch {
        // not JSON
      }
      this.log.push({ method, url, status: res.status });
      return { method, url, status: res.status, headers: res.headers, text, json };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const error = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (e.cause?.code ?? e.message);
      this.log.push({ method, url, status: error });
      return { method, url, status: 0, headers: new Headers(), text: '', error };
    }
  }
}

/** "401 invalid_request: …" or "network error" — how a probe's answer reads in a report. */
export function describe(p: ProbeResult): string {
  if (p.error) return `no answer (${p.error})`;
  const oauthError = typeof p.json?.error === 'string' ? ` ${p.json.error}${typeof p.json.error_description === 'string' ? `: ${p.json.error_description}` : ''}` : '';
  const location = p.status >= 300 && p.status < 400 ? ` → ${p.headers.get('location') ?? '(no Location)'}` : '';
  const type = !oauthError && !location && p.text ? ` (${mediaType(p.headers.get('content-type')) || 'no content type'}${p.text.length < 120 && !p.text.includes('<') ? `: ${p.text.trim()}` : ''})` : '';
  return `${p.status}${oauthError}${location}${type}`;
}
