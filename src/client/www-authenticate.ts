// Parses `WWW-Authenticate` (RFC 9110 §11.6.1) and picks out the Bearer challenge (RFC 6750 §3) with the
// parameters MCP clients use: `resource_metadata` (RFC 9728 §5.1), `scope`, `error`.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export interface BearerChallenge {
  resourceMetadata?: string;
  scope?: string;
  error?: string;
  errorDescription?: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Every challenge in the header, in order. Tolerates sloppy spacing; never throws. */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let s = header;
  let current: Challenge | undefined;
  const skip = (re: RegExp) => {
    const m = re.exec(s);
    if (m) s = s.slice(m[0].length);
  };
  while (s.length) {
    skip(/^[\s,]+/);
    if (!s.length) break;
    const tok = TOKEN.exec(s);
    if (!tok) {
      s = s.slice(1);
      continue;
    }
    const word = tok[0];
    const after = s.slice(word.length);
    const eq = /^\s*=\s*/.exec(after);
    // `token68` values end with '=' padding; a param is `name = value` where a value follows.
    if (eq && current && !/^\s*=\s*(,|$)/.test(after)) {
      s = after.slice(eq[0].length);
      let value = '';
      if (s.startsWith('"')) {
        let i = 1;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        s = s.slice(i + 1);
      } else {
        const m = /^[^,\s]*/.exec(s)!;
        value = m[0];
        s = s.slice(m[0].length);
      }
      current.params[word.toLowerCase()] = value;
      continue;
    }
    // A new challenge: the scheme.
    current = { scheme: word, params: {} };
    out.push(current);
    s = after;
  }
  return out;
}

export function bearerChallenge(header: string | null | undefined): BearerChallenge | undefined {
  const c = parseWwwAuthenticate(header).find((x) => x.scheme.toLowerCase() === 'bearer');
  if (!c) return undefined;
  return {
    resourceMetadata: c.params.resource_metadata || undefined,
    scope: c.params.scope?.trim() || undefined,
    error: c.params.error || undefined,
    errorDescription: c.params.error_description || undefined,
    params: c.params,
  };
}
