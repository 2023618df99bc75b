// Fetching a document named by a stranger (a client ID metadata document URL) without becoming a proxy into the
// private network: https only, public addresses only (checked on the address actually connected to, so DNS
// rebinding cannot slip past), no redirects, a size cap and a deadline.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

export class SafeFetchError extends Error {}

export interface SafeFetchOptions {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  maxBytes: number;
}

/** What to send instead of a plain GET (an OpenID Connect token request); any status then comes back with its JSON. */
export interface SafeFetchRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  userAgent?: string;
}

export interface FetchedDocument {
  status: number;
  body: unknown;
  cacheControl: string | undefined;
}

// RFC 6890 special-purpose ranges, and their IPv6 counterparts: none of them is a public web server.
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) NON_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** True for an address on the public internet. IPv4-mapped IPv6 addresses are judged by their IPv4 part. */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]);
  const family = isIP(address);
  if (family === 4) return !NON_PUBLIC.check(address, 'ipv4');
  if (family === 6) return !NON_PUBLIC.check(address, 'ipv6');
  return false;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const usable = addresses.filter((a) => allowPrivate || isPublicAddress(a.address));
      if (usable.length === 0 || usable.length !== addresses.length) {
        return callback(Object.assign(new SafeFetchError(`${hostname} resolves to a non-public address`), { code: 'ENONPUBLIC' }), '');
      }
      if (options.all) return callback(null, usable);
      callback(null, usable[0].address, usable[0].family);
    });
  };
}

/** The URL, if the guard lets it be fetched before any lookup: https (unless allowed), no literal non-public address. */
function guardedUrl(url: string, options: Pick<SafeFetchOptions, 'allowHttp' | 'allowPrivateAddresses'>): URL | SafeFetchError {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new SafeFetchError('not a valid URL');
  }
  if (u.protocol !== 'https:' && !(options.allowHttp && u.protocol === 'http:')) return new SafeFetchError('the URL must use https');
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !options.allowPrivateAddresses && !isPublicAddress(literal)) return new SafeFetchError(`${u.hostname} is not a public address`);
  return u;
}

/** GETs a JSON document under the guard. Throws SafeFetchError with a reason safe to show. */
export function fetchJsonDocument(url: string, options: SafeFetchOptions, request?: SafeFetchRequest): Promise<FetchedDocument> {
  const u = guardedUrl(url, options);
  if (u instanceof SafeFetchError) return Promise.reject(u);

  return new Promise<FetchedDocument>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, doc?: FetchedDocument) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err instanceof SafeFetchError ? err : new SafeFetchError(describe(err)));
      } else resolve(doc!);
    };
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      {
        method: request?.method ?? 'GET',
        headers: { accept: 'application/json', 'user-agent': request?.userAgent ?? 'Tollgate (client metadata fetch)', ...request?.headers },
        lookup: guardedLookup(options.allowPrivateAddresses) as never,
      },
      (res: IncomingMessage) => {
        // The document must be served at its own URL: a redirect could point anywhere.
        if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400) return finish(new SafeFetchError(`redirects are not followed (HTTP ${res.statusCode})`));
        if (res.statusCode !== 200 && !(request && res.statusCode && res.statusCode >= 400 && res.statusCode < 500)) return finish(new SafeFetchError(`HTTP ${res.statusCode}`));
        const declared = Number(res.headers['content-length']);
        if (declared > options.maxBytes) return finish(new SafeFetchError(`larger than ${options.maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) return finish(new SafeFetchError(`larger than ${options.maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('error', (e) => finish(e));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return finish(new SafeFetchError('not valid JSON'));
          }
          const cc = res.headers['cache-control'];
          finish(undefined, { status: res.statusCode ?? 200, body, cacheControl: Array.isArray(cc) ? cc.join(', ') : cc });
        });
      },
    );
    const timer = setTimeout(() => finish(new SafeFetchError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('error', (e) => finish(e));
    req.end(request?.body);
  });
}

function describe(err: Error): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENONPUBLIC') return e.message;
  if (e.code === 'ENOTFOUND') return 'host not found';
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code?.startsWith('ERR_TLS') || e.code?.includes('CERT')) return 'TLS certificate problem';
  return e.code ?? 'network error';
}

/**
 * POSTs a body to a URL someone registered (an outbound webhook endpoint) under the same guard: https unless
 * allowed, public addresses only (checked on the address connected to), no redirects followed, a deadline. Resolves
 * with the status (the answer's body is read up to a small cap and dropped); throws SafeFetchError.
 */
export function postGuarded(url: string, body: string, headers: Record<string, string>, options: Omit<SafeFetchOptions, 'maxBytes'>): Promise<{ status: number }> {
  const u = guardedUrl(url, options);
  if (u instanceof SafeFetchError) return Promise.reject(u);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err instanceof SafeFetchError ? err : new SafeFetchError(describe(err)));
      else resolve({ status: status! });
    };
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Tollgate (webhooks)', ...headers },
        lookup: guardedLookup(options.allowPrivateAddresses) as never,
      },
      (res: IncomingMessage) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 65536) finish(undefined, res.statusCode ?? 0);
        });
        res.on('error', (e) => finish(e));
        res.on('end', () => finish(undefined, res.statusCode ?? 0));
      },
    );
    const timer = setTimeout(() => finish(new SafeFetchError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('error', (e) => finish(e));
    req.end(body);
  });
}
