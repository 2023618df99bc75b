// TOTP (RFC 6238) as authenticator apps implement it: HMAC-SHA-1, 30-second steps, 6 digits, keys in base32
// (RFC 4648 §6) inside an `otpauth://totp/…` URI. Pure functions; the stored state lives in two-factor.ts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** RFC 6238 §5.2: accept one step either side for clock drift and typing time. */
export const TOTP_WINDOW = 1;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper-case, without padding (what authenticator apps expect). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case, spaces and padding ignored); throws on any other character. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) throw new Error('not base32');
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 §5.3 HOTP: HMAC-SHA-1 of the 8-byte counter, dynamic truncation, `digits` decimal digits. */
export function hotp(key: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 §4.2: T = floor((now - T0) / X), T0 = 0, X = 30 s. */
export const totpStep = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);

export const totpAt = (key: Uint8Array, nowMs: number): string => hotp(key, totpStep(nowMs));

/**
 * The time step whose code `code` is, within ±TOTP_WINDOW steps of now, or undefined. The caller refuses a step it
 * has already accepted (RFC 6238 §5.2: a verifier must not accept the same code twice).
 */
export function matchTotp(key: Uint8Array, code: string, nowMs: number): number | undefined {
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) return undefined;
  const now = totpStep(nowMs);
  let found: number | undefined;
  // Every candidate is computed and compared, so the time taken does not say which step matched.
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (timingSafeEqual(Buffer.from(hotp(key, step)), Buffer.from(code)) && found === undefined) found = step;
  }
  return found;
}

/** A new 160-bit key (RFC 4226 §4 recommends 160 bits for HMAC-SHA-1). */
export const newTotpKey = (): Buffer => randomBytes(20);

/** The Key Uri Format authenticator apps read (also what a QR code carries). */
export function otpauthUri(p: { issuer: string; account: string; key: Uint8Array }): string {
  const label = `${encodeURIComponent(p.issuer)}:${encodeURIComponent(p.account)}`;
  // encodeURIComponent, not URLSearchParams: some apps show a `+` for a space.
  const q = [['secret', base32Encode(p.key)], ['issuer', p.issuer], ['algorithm', 'SHA1'], ['digits', String(TOTP_DIGITS)], ['period', String(TOTP_STEP_SECONDS)]];
  return `otpauth://totp/${label}?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}
