// Cursor paging: a cursor is the opaque (base64url) sort key of the last item of the previous page.
import { ApiProblem } from './problem.ts';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || encodeCursor(key) !== cursor) throw new ApiProblem('invalid_request', 'The cursor is not one this API returned', { extra: { errors: [{ pointer: '/cursor', detail: 'not a cursor' }] } });
  return key;
}

/** Pages an already-sorted list by its (unique, ascending) key. */
export function pageByKey<T>(items: readonly T[], keyOf: (item: T) => string, limit: number, cursor: string | undefined): { items: T[]; next_cursor: string | null } {
  const after = decodeCursor(cursor);
  const rest = after === undefined ? items : items.filter((i) => keyOf(i) > after);
  const page = rest.slice(0, limit);
  return { items: page, next_cursor: rest.length > limit ? encodeCursor(keyOf(page.at(-1)!)) : null };
}
