// Which protocol era a message belongs to, decided from the body first and cross-checked against the headers:
// a 2026-07-28 request names its version in `params._meta` (and repeats it, its method and its target in headers);
// anything else is a 2025-era message whose version is the MCP-Protocol-Version header (2025-03-26 when absent).
import { isObject } from '../util/json.ts';
import type { Message, Params, RpcError } from './jsonrpc.ts';
import { invalidParams, rpcError } from './jsonrpc.ts';
import {
  DEFAULT_LEGACY_VERSION, ErrorCode, H_METHOD, H_NAME, H_PROTOCOL_VERSION, isLegacyVersion, isModernVersion, MCP_NAME_SOURCE,
  META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, MODERN_VERSIONS, ALL_VERSIONS,
} from './protocol.ts';

export type HeaderReader = (lowerCaseName: string) => string | undefined;

export type EraRoute =
  | { era: 'legacy'; version: string }
  | { era: 'modern'; version: string; clientCapabilities: Record<string, unknown> }
  | { era: 'reject'; status: number; error: RpcError };

type Incoming = Extract<Message, { kind: 'request' | 'notification' }>;


const reject = (error: RpcError, status = 400): EraRoute => ({ era: 'reject', status, error });

/** MCP 2026-07-28 (SEP-2243): a header that disagrees with the body is refused with 400 and HeaderMismatch. */
const mismatch = (what: string, header: string, body: string): EraRoute =>
  reject(rpcError(ErrorCode.HeaderMismatch, `Header mismatch: ${what}`, { mismatch: { header, body } }));

export const unsupportedVersion = (requested: string | undefined, supported: readonly string[]): RpcError =>
  rpcError(ErrorCode.UnsupportedProtocolVersion, requested === undefined ? 'Unsupported protocol version' : `Unsupported protocol version: ${requested.slice(0, 40)}`, {
    supported: [...supported],
    ...(requested !== undefined && { requested }),
  });

/** RFC 9110 §5.5: field values are evaluated without surrounding whitespace. */
export const headerValue = (read: HeaderReader, name: string): string | undefined => {
  const v = read(name);
  return v === undefined ? undefined : v.trim();
};

/** The 2026-07-28 `_meta` envelope: the problems with it, first one first (empty when it is valid). */
export function envelopeProblems(meta: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof meta[META_PROTOCOL_VERSION] !== 'string') problems.push(`${META_PROTOCOL_VERSION}: ${META_PROTOCOL_VERSION in meta ? 'must be a string' : 'missing'}`);
  if (!isObject(meta[META_CLIENT_CAPABILITIES])) problems.push(`${META_CLIENT_CAPABILITIES}: ${META_CLIENT_CAPABILITIES in meta ? 'must be an object' : 'missing'}`);
  const info = meta[META_CLIENT_INFO];
  if (info !== undefined && !(isObject(info) && typeof info.name === 'string' && typeof info.version === 'string')) problems.push(`${META_CLIENT_INFO}: must be an object with name and version`);
  const level = meta[META_LOG_LEVEL];
  if (level !== undefined && typeof level !== 'string') problems.push(`${META_LOG_LEVEL}: must be a string`);
  return problems;
}

/** SEP-2243: a header value may carry non-ASCII text as `=?base64?<standard base64>?=`; anything else is literal. */
export function decodeHeaderValue(value: string): string | undefined {
  const m = /^=\?base64\?(.*)\?=$/i.exec(value);
  if (!m) return value;
  const b64 = m[1];
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(bytes);
  } catch {
    return undefined;
  }
}

function metaOf(params: Params | undefined): Record<string, unknown> | undefined {
  const meta = params?._meta;
  return isObject(meta) ? meta : undefined;
}

function routeModern(msg: Incoming, meta: Record<string, unknown>, read: HeaderReader): EraRoute {
  const problems = envelopeProblems(meta);
  if (problems.length) return reject(invalidParams(`invalid _meta envelope for protocol revision ${MODERN_VERSIONS[0]}: ${problems[0]}`, { envelope: problems }));
  const claimed = meta[META_PROTOCOL_VERSION] as string;
  const versionHeader = headerValue(read, H_PROTOCOL_VERSION);
  if (versionHeader !== undefined && versionHeader !== claimed) {
    return mismatch(`the MCP-Protocol-Version header names ${versionHeader.slice(0, 40)} but _meta names ${claimed.slice(0, 40)}`, versionHeader, claimed);
  }
  const methodHeader = headerValue(read, H_METHOD);
  if (methodHeader !== undefined && methodHeader !== msg.method) {
    return mismatch(`the Mcp-Method header names ${methodHeader.slice(0, 100)} but the body names ${msg.method.slice(0, 100)}`, methodHeader, msg.method);
  }
  if (isLegacyVersion(claimed)) return { era: 'legacy', version: claimed };
  // MCP 2026-07-28: a version the server does not serve is UnsupportedProtocolVersionError, listing what it does.
  if (!isModernVersion(claimed)) return reject(unsupportedVersion(claimed, MODERN_VERSIONS));
  if (msg.kind === 'request') {
    // SEP-2243: MCP-Protocol-Version and Mcp-Method are required on every request; Mcp-Name mirrors the target.
    if (versionHeader === undefined) return mismatch('the MCP-Protocol-Version header is required', '(missing)', claimed);
    if (methodHeader === undefined) return mismatch('the Mcp-Method header is required', '(missing)', msg.method);
    const field = MCP_NAME_SOURCE[msg.method];
    if (field !== undefined) {
      const bodyValue = typeof msg.params?.[field] === 'string' ? (msg.params[field] as string) : undefined;
      const nameHeader = headerValue(read, H_NAME);
      if (nameHeader === undefined) {
        if (bodyValue !== undefined) return mismatch(`the Mcp-Name header is required (params.${field} is ${JSON.stringify(bodyValue.slice(0, 100))})`, '(missing)', bodyValue);
      } else {
        const decoded = decodeHeaderValue(nameHeader);
        if (decoded === undefined) return mismatch('the Mcp-Name header carries invalid base64', nameHeader, bodyValue ?? '');
        if (bodyValue !== undefined && decoded !== bodyValue) return mismatch(`the Mcp-Name header names ${JSON.stringify(decoded.slice(0, 100))} but params.${field} is ${JSON.stringify(bodyValue.slice(0, 100))}`, nameHeader, bodyValue);
      }
    }
  }
  return { era: 'modern', version: claimed, clientCapabilities: meta[META_CLIENT_CAPABILITIES] as Record<string, unknown> };
}

export function routeEra(msg: Incoming, read: HeaderReader): EraRoute {
  const meta = metaOf(msg.params);
  const versionHeader = headerValue(read, H_PROTOCOL_VERSION);
  const claims = meta !== undefined && META_PROTOCOL_VERSION in meta;

  if (msg.method === 'initialize' && msg.kind === 'request' && !(claims && envelopeProblems(meta).length === 0 && isModernVersion(String(meta[META_PROTOCOL_VERSION])))) {
    if (versionHeader !== undefined && isModernVersion(versionHeader)) return mismatch('initialize is a 2025-era handshake but the MCP-Protocol-Version header names a 2026 revision', versionHeader, 'initialize');
    return { era: 'legacy', version: DEFAULT_LEGACY_VERSION };
  }
  if (claims) return routeModern(msg, meta, read);
  if (versionHeader !== undefined && isModernVersion(versionHeader)) {
    if (msg.kind === 'notification') return { era: 'modern', version: versionHeader, clientCapabilities: {} };
    const missing = meta === undefined ? ['_meta'] : [META_PROTOCOL_VERSION, META_CLIENT_CAPABILITIES].filter((k) => !(k in meta));
    return reject(invalidParams(`the MCP-Protocol-Version header names ${versionHeader} but the request lacks the _meta envelope key(s): ${missing.join(', ')}`, { envelope: { missing } }));
  }
  if (versionHeader === undefined) return { era: 'legacy', version: DEFAULT_LEGACY_VERSION };
  // MCP 2025-06-18 transports: an invalid or unsupported MCP-Protocol-Version gets 400 Bad Request.
  if (!isLegacyVersion(versionHeader)) return reject(unsupportedVersion(versionHeader, ALL_VERSIONS));
  return { era: 'legacy', version: versionHeader };
}
