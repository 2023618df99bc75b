// Which grants this process has found active lately, so that the check behind every MCP request need not read the
// database (PostgreSQL). Safe to lose, and trusted only while revocations are heard: every revocation sends
// NOTIFY with the grant id in its own transaction (delivered on commit), each process drops that grant on hearing
// it, and while the LISTEN connection is down nothing is trusted (every check reads, as on SQLite). An entry is
// never trusted longer than `maxAgeMs`, so a lost notification cannot keep a revoked grant alive for long.

/** The channel revocations are announced on; the payload is a grant id, or `*` for "forget everything". */
export const GRANTS_CHANNEL = 'tollgate_grants';
export const FORGET_ALL = '*';

export interface GrantCacheOptions {
  maxAgeMs: number;
  maxEntries?: number;
  now?: () => number;
}

/** Taken before the read that may fill the cache: a revocation heard during the read keeps its answer out. */
export interface ReadTicket {
  readonly epoch: number;
  readonly at: number;
}

export function grantCache(options: GrantCacheOptions) {
  const max = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  // grant id → when it was read (the read's start) and the refresh generation known to be confirmed.
  const entries = new Map<string, { at: number; generation: number }>();
  let live = false;
  // Bumped by every drop and clear: an answer read across one is not remembered.
  let epoch = 0;

  const forget = () => {
    epoch++;
    entries.clear();
  };
  const drop = (id: string) => {
    epoch++;
    entries.delete(id);
  };

  return {
    /** True while revocations are heard (the LISTEN connection is up). */
    get live(): boolean {
      return live;
    },
    get size(): number {
      return entries.size;
    },
    /** The confirmed generation of a grant remembered as active and fresh; undefined means "read it". */
    lookup(id: string): number | undefined {
      if (!live) return undefined;
      const e = entries.get(id);
      if (!e) return undefined;
      if (now() - e.at >= options.maxAgeMs) {
        entries.delete(id);
        return undefined;
      }
      return e.generation;
    },
    ticket(): ReadTicket {
      return { epoch, at: now() };
    },
    /** Remembers a grant read as active, unless something was dropped (or the connection changed) since `ticket`. */
    remember(id: string, generation: number, ticket: ReadTicket): void {
      if (!live || ticket.epoch !== epoch || options.maxAgeMs <= 0) return;
      if (entries.size >= max && !entries.has(id)) entries.delete(entries.keys().next().value as string);
      entries.set(id, { at: ticket.at, generation });
    },
    /** A newer refresh generation was confirmed for a remembered grant. */
    raise(id: string, generation: number): void {
      const e = entries.get(id);
      if (e && e.generation < generation) e.generation = generation;
    },
    /** A revocation was heard (or made here). */
    drop,
    /** A notification payload from the channel. */
    heard(payload: string): void {
      if (payload === FORGET_ALL) forget();
      else drop(payload);
    },
    /** The LISTEN connection came up or went down: either way, what was remembered may have missed a revocation. */
    setLive(up: boolean): void {
      live = up;
      forget();
    },
  };
}

export type GrantCache = ReturnType<typeof grantCache>;
