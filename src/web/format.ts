// How numbers and times read on the pages: grouped digits, UTC times with a relative hint.
import { html } from 'hono/html';

const numbers = new Intl.NumberFormat('en-US');

export const formatNumber = (n: number): string => numbers.format(n);

/** `+1,000` / `−25` for ledger amounts. */
export const formatSigned = (n: number): string => (n > 0 ? `+${numbers.format(n)}` : n < 0 ? `\u2212${numbers.format(-n)}` : '0');

/** `2025-06-18 14:03 UTC`. */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `just now`, `5 min ago`, `3 h ago`, `12 days ago`; `in 4 h` for the future. */
export function relativeTime(ms: number, now = Date.now()): string {
  const delta = Math.round((now - ms) / 1000);
  const future = delta < 0;
  const s = Math.abs(delta);
  let text: string;
  if (s < 45) return future ? 'in a moment' : 'just now';
  if (s < 3600) text = `${Math.round(s / 60)} min`;
  else if (s < 86_400) text = `${Math.round(s / 3600)} h`;
  else text = `${Math.round(s / 86_400)} day${Math.round(s / 86_400) === 1 ? '' : 's'}`;
  return future ? `in ${text}` : `${text} ago`;
}

/** A `<time>` element: the UTC time, with the relative time as its title. */
export const timeTag = (ms: number | null | undefined, empty = 'never') =>
  ms ? html`<time datetime="${new Date(ms).toISOString()}" title="${relativeTime(ms)}">${formatUtc(ms)}</time>` : html`<span class="muted">${empty}</span>`;

/** A `<time>` element that reads relatively (`5 min ago`), with the exact UTC time as its title. */
export const agoTag = (ms: number | null | undefined, empty = 'never') =>
  ms ? html`<time datetime="${new Date(ms).toISOString()}" title="${formatUtc(ms)}">${relativeTime(ms)}</time>` : html`<span class="muted">${empty}</span>`;
