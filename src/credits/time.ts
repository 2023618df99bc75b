// Usage is bucketed by UTC day and UTC hour, stored as integers (days / hours since the Unix epoch).
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/** `2025-06-18` for a day number. */
export const formatDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The day number of `YYYY-MM-DD`, or undefined when it is not a real date. */
export function parseDay(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) return undefined;
  return dayOf(ms);
}
