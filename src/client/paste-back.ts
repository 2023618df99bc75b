// Headless sign-in: the user signs in on any machine and pastes back where the browser ended up — the full
// callback URL, its query string, or only the code.

export interface PastedResponse {
  params: URLSearchParams;
  /** Only the code was pasted: there is no `state` or `iss` to check (PKCE still binds the code to us). */
  bareCode: boolean;
}

/** Undefined when the text is none of the accepted forms. */
export function parsePastedResponse(text: string): PastedResponse | undefined {
  const s = text.trim().replace(/^["'<]+|[>"']+$/g, '');
  if (!s) return undefined;
  if (/^https?:\/\//i.test(s)) {
    try {
      const params = new URL(s).searchParams;
      return params.has('code') || params.has('error') ? { params, bareCode: false } : undefined;
    } catch {
      return undefined;
    }
  }
  const query = s.includes('?') ? s.slice(s.indexOf('?') + 1) : s;
  if (/(^|&)(code|error)=/.test(query)) {
    const params = new URLSearchParams(query.split('#')[0]);
    return params.get('code') || params.get('error') ? { params, bareCode: false } : undefined;
  }
  // A bare code: one token of URL-safe characters that looks generated (long, or with a digit), so that a stray
  // word typed at the prompt is not sent to the token endpoint as a code.
  if (/^[A-Za-z0-9._~+/=-]{8,2048}$/.test(s) && (s.length >= 16 || /\d/.test(s))) return { params: new URLSearchParams({ code: s }), bareCode: true };
  return undefined;
}
