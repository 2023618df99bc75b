// Fixed-window counters behind one interface; the memory, database and Redis backends run one shared test suite.
// A window starts at a key's first call and lasts `windowMs`; every call in it (allowed or not) counts.

export interface WindowCount {
  /** Calls counted in the current window, this one included (for `hit`). */
  count: number;
  /** Milliseconds until the window ends (a whole window when none is open). */
  resetMs: number;
}

export interface RateLimitBackend {
  readonly name: 'memory' | 'database' | 'redis';
  /**
   * Counts one call against each key, atomically per key; returns each key's window. `limits` (each key's limit,
   * when the caller has one) lets a backend that pays a round trip per count take counts ahead while the window is
   * far from its limit (the database backend's leases); it never changes which calls are within the limit.
   */
  hit(keys: readonly string[], windowMs: number, limits?: readonly number[]): Promise<WindowCount[]>;
  /** Reads each key's window without counting. */
  peek(keys: readonly string[], windowMs: number): Promise<WindowCount[]>;
  close(): Promise<void>;
}
