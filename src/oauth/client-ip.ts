import { isIP } from 'node:net';
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';

/**
 * The address the per-IP limits count. With no trusted proxy it is the TCP peer (a forwarded header is the client's
 * to invent). Behind `trustedHops` proxies that each append the address they saw to `X-Forwarded-For`, it is the
 * entry that many places from the right of [X-Forwarded-For…, peer]: the first address no trusted proxy vouches
 * for. Anything unparseable falls back to the peer.
 */
export function clientIp(c: Context, trustedHops = 0): string {
  let peer: string;
  try {
    peer = getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    peer = 'unknown';
  }
  if (trustedHops <= 0) return peer;
  return forwardedClient(c.req.header('x-forwarded-for'), peer, trustedHops);
}

/** The client address from an `X-Forwarded-For` value and the peer, trusting the last `trustedHops` hops. */
export function forwardedClient(forwardedFor: string | undefined, peer: string, trustedHops: number): string {
  // Repeated headers arrive joined with ", " (Fetch semantics), which is the same list.
  const chain = [...(forwardedFor ?? '').split(',').map((s) => s.trim()).filter(Boolean), peer];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedHops)];
  return isIP(candidate) ? candidate : peer;
}
