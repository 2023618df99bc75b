import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** An opaque random token: 32 bytes, base64url (256 bits). */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * An OAuth client id: 24 base64url characters (144 random bits, less a sliver) that never start with `-` or `_`, so
 * that no client id is ever taken for an option on a command line (`tollgate admin client rotate-secret <id>`).
 */
export function newClientId(): string {
  for (;;) {
    const id = randomToken(18);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** A row id. */
export const newId = (): string => randomUUID();

/** SHA-256 hex: how tokens, codes, secrets and session ids are stored. */
export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
