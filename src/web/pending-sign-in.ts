// A sign-in that passed the password but still owes a second step — a TOTP code, or (an operator who must use two
// factors and has none yet) enrolment. It is no session: a short-lived cookie sealed with a key derived from the
// server secret (AES-256-GCM, so it can be neither read nor forged) names the account, the step and where to go after.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { SecretBox } from '../util/crypto-box.ts';

export const PENDING_COOKIE = 'tollgate_pending_sign_in';
const TTL_MS = 5 * 60_000;

export type PendingStep = 'code' | 'enrol';

export interface Pending {
  userId: string;
  step: PendingStep;
  next: string;
}

export interface PendingSignIn {
  start(c: Context, pending: Pending): void;
  /** The pending sign-in this browser carries, unexpired and untampered, or undefined. */
  read(c: Context): Pending | undefined;
  clear(c: Context): void;
}

export function pendingSignIn(secret: string, options: { secureCookies: boolean }): PendingSignIn {
  const box = new SecretBox(secret, 'pending-sign-in');
  return {
    start(c, pending) {
      const sealed = box.seal(JSON.stringify({ u: pending.userId, s: pending.step, n: pending.next, e: Date.now() + TTL_MS }));
      setCookie(c, PENDING_COOKIE, sealed, { httpOnly: true, sameSite: 'Lax', secure: options.secureCookies, path: '/', maxAge: TTL_MS / 1000 });
    },
    read(c) {
      const sealed = getCookie(c, PENDING_COOKIE);
      if (!sealed || sealed.length > 4096) return undefined;
      try {
        const v = JSON.parse(box.open(sealed)) as { u?: unknown; s?: unknown; n?: unknown; e?: unknown };
        if (typeof v.u !== 'string' || (v.s !== 'code' && v.s !== 'enrol') || typeof v.n !== 'string' || typeof v.e !== 'number' || v.e <= Date.now()) return undefined;
        return { userId: v.u, step: v.s, next: v.n };
      } catch {
        return undefined;
      }
    },
    clear(c) {
      deleteCookie(c, PENDING_COOKIE, { path: '/', secure: options.secureCookies });
    },
  };
}
