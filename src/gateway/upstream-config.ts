// What an upstream is, as the operator configures it, and the checks on that input (`tollgate upstream add`, the
// admin page). Secrets (header values, environment values) are kept only sealed at rest and never shown back.
import { UserFacingError } from '../util/errors.ts';

export class UpstreamConfigError extends UserFacingError {}

/** Lower-case letters, digits and `-`, starting with a letter: it appears in URLs (`/<ws>/mcp/<name>`) and tool names. */
export const UPSTREAM_NAME = /^[a-z][a-z0-9-]{0,31}$/;

export interface HttpTarget {
  readonly transport: 'http';
  readonly url: string;
  /** Static headers sent with every request (a shared secret, …). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface StdioTarget {
  readonly transport: 'stdio';
  /** The program and its arguments. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export type UpstreamTarget = HttpTarget | StdioTarget;

export interface Upstream {
  readonly name: string;
  readonly target: UpstreamTarget;
  readonly defaultPrice: number;
  /** Null: the configured default timeout. */
  readonly timeoutMs: number | null;
  readonly updatedAt: number;
}

// RFC 9110 §5.1: a field name is a token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Headers Tollgate sets itself, or that would break the transport or smuggle requests.
const RESERVED_HEADERS = new Set([
  'authorization', 'host', 'content-length', 'content-type', 'accept', 'connection', 'transfer-encoding', 'te', 'upgrade', 'trailer',
  'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'keep-alive', 'proxy-authorization', 'expect',
]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function checkName(name: string): string {
  if (!UPSTREAM_NAME.test(name)) throw new UpstreamConfigError(`upstream name "${name.slice(0, 40)}" is invalid: use 1–32 of a–z 0–9 -, starting with a letter`);
  return name;
}

/** `Name: value` → [name, value]; refuses reserved names (the forwarded identity rides in Authorization). */
export function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UpstreamConfigError('--header must look like "Name: value"');
  const name = raw.slice(0, colon).trim();
  const value = raw.slice(colon + 1).trim();
  if (!HEADER_NAME.test(name)) throw new UpstreamConfigError(`header name "${name.slice(0, 40)}" is not a valid HTTP field name`);
  // MCP security best practices (no token passthrough): Tollgate's own signed JWT is the upstream's Authorization.
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw new UpstreamConfigError(`the header ${name} is set by Tollgate${name.toLowerCase() === 'authorization' ? ' (it carries the forwarded JWT); send a shared secret under another name, e.g. "X-Api-Key: …"' : ''}`);
  }
  // RFC 9110 §5.5: no CR, LF or NUL in a field value (header injection).
  if (/[\r\n\0]/.test(value) || value.length > 8192) throw new UpstreamConfigError(`the value of header ${name} contains a line break or is too long`);
  return [name, value];
}

export function parseEnv(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  const name = eq <= 0 ? '' : raw.slice(0, eq);
  if (!ENV_NAME.test(name)) throw new UpstreamConfigError('--env must look like NAME=value');
  const value = raw.slice(eq + 1);
  if (value.includes('\0') || value.length > 32768) throw new UpstreamConfigError(`the value of ${name} is too long or contains NUL`);
  return [name, value];
}

export function checkUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UpstreamConfigError('--url must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UpstreamConfigError('--url must be an http or https URL');
  if (u.username || u.password) throw new UpstreamConfigError('--url must not carry credentials: use --header for a shared secret');
  u.hash = '';
  return u.toString();
}

/** Splits a command line into words: spaces separate, single or double quotes group, backslash escapes. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new UpstreamConfigError('--command has an unclosed quote');
  if (inWord) words.push(word);
  if (!words.length) throw new UpstreamConfigError('--command is empty');
  return words;
}

export function checkPrice(raw: string | number): number {
  const text = String(raw);
  if (!/^\d{1,9}$/.test(text)) throw new UpstreamConfigError(`a price must be a whole number of credits (0 or more), not "${text.slice(0, 20)}"`);
  return Number(text);
}

export function checkTimeout(raw: string | number): number {
  const text = String(raw);
  if (!/^\d{1,7}$/.test(text) || Number(text) < 100 || Number(text) > 3_600_000) throw new UpstreamConfigError('--timeout must be from 100 to 3600000 milliseconds');
  return Number(text);
}

/** How an upstream is shown: header and env names only, never their values. */
export function describeTarget(target: UpstreamTarget): string {
  if (target.transport === 'http') {
    const names = Object.keys(target.headers);
    return `${target.url}${names.length ? ` (headers: ${names.join(', ')})` : ''}`;
  }
  const names = Object.keys(target.env);
  return `stdio: ${target.command.map((w) => (/[\s"'\\]/.test(w) ? JSON.stringify(w) : w)).join(' ')}${names.length ? ` (env: ${names.join(', ')})` : ''}`;
}
