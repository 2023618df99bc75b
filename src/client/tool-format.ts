// Human-readable tool lists and tool results, and tool arguments from `--args JSON` or `key=value` pairs.
import { isObject } from '../util/json.ts';
import type { JsonSchema, Tool, ToolResult } from './mcp-http-client.ts';
import { ClientError } from './http.ts';

const typeName = (s: JsonSchema | undefined): string => {
  if (!s) return 'any';
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return [...new Set(union.map(typeName))].join(' | ');
  const t = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  return t === 'array' && s.items ? `${typeName(s.items)}[]` : t;
};

/** What a call costs and needs, as the server says in the tool's `_meta` (docs/mcp.md); "—" when it does not say. */
function priceAndScope(t: Tool): string {
  const price = t._meta?.['tollgate/price'];
  const scope = t._meta?.['tollgate/scope'];
  const priceText = typeof price === 'number' && Number.isFinite(price) && price >= 0 ? (price === 0 ? 'free' : `${price.toLocaleString('en-US')} credit${price === 1 ? '' : 's'}`) : '—';
  // The server's text, shown only when it looks like a scope: a hostile server cannot smuggle terminal escapes in.
  const scopeText = typeof scope === 'string' && /^[\x21-\x7e]{1,64}$/.test(scope) ? scope : '—';
  return `    price: ${priceText} · scope: ${scopeText}`;
}

export function formatTools(tools: Tool[]): string {
  if (!tools.length) return 'The server offers no tools.';
  const out: string[] = [];
  for (const t of [...tools].sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length) out.push('');
    const desc = (t.description ?? t.title ?? '').trim().split('\n')[0];
    out.push(desc ? `${t.name}  — ${desc}` : t.name);
    out.push(priceAndScope(t));
    const props = t.inputSchema?.properties ?? {};
    const required = new Set(t.inputSchema?.required ?? []);
    for (const [name, schema] of Object.entries(props)) {
      const d = schema.description ? ` — ${schema.description.trim().split('\n')[0]}` : '';
      out.push(`    ${name} (${typeName(schema)}${required.has(name) ? ', required' : ''})${d}`);
    }
  }
  return out.join('\n');
}

const size = (b64: unknown) => (typeof b64 === 'string' ? `${Math.floor((b64.length * 3) / 4)} bytes` : '? bytes');

/** JSON text (an object or array) indented for reading; anything else as is. */
function prettyIfJson(text: string): string {
  const t = text.trim();
  if (!/^[[{]/.test(t)) return text;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return text;
  }
}

/** The result as text: text content as is, other content summarised, structured content as JSON when alone. */
export function formatToolResult(result: ToolResult): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    switch (item.type) {
      case 'text':
        parts.push(prettyIfJson(String(item.text ?? '')));
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} ${item.mimeType ?? ''}, ${size(item.data)}]`);
        break;
      case 'resource_link':
        parts.push(`[link] ${item.name ? `${item.name}: ` : ''}${item.uri}`);
        break;
      case 'resource': {
        const r = (item.resource ?? {}) as Record<string, unknown>;
        parts.push(typeof r.text === 'string' ? r.text : `[resource ${r.uri ?? ''} ${r.mimeType ?? ''}, ${size(r.blob)}]`);
        break;
      }
      default:
        parts.push(JSON.stringify(item));
    }
  }
  if (!parts.length && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

/** A `key=value` value: kept as text where the schema accepts a string, else parsed as JSON when it is JSON. */
function coerce(raw: string, schema: JsonSchema | undefined): unknown {
  const types = schema?.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('string')) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Tool arguments: `--args` JSON (an object), then `key=value` pairs on top. A value is converted to what the
 * tool's schema says (number, boolean, object…); without a schema, JSON values are parsed and anything else is a
 * string. `key:=json` always parses JSON.
 */
export function parseToolArgs(argsJson: string | undefined, pairs: string[], tool: Tool | undefined): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (argsJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(argsJson);
    } catch (err) {
      throw new ClientError(`--args is not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(parsed)) throw new ClientError('--args must be a JSON object');
    args = parsed;
  }
  const props = tool?.inputSchema?.properties;
  for (const pair of pairs) {
    const m = /^([^=:]+)(:?=)(.*)$/s.exec(pair);
    if (!m) throw new ClientError(`"${pair}" is not key=value`);
    const [, key, op, raw] = m;
    if (op === ':=') {
      try {
        args[key] = JSON.parse(raw);
      } catch {
        throw new ClientError(`${key}:=${raw} is not valid JSON`);
      }
    } else {
      args[key] = coerce(raw, props?.[key]);
    }
  }
  return args;
}
