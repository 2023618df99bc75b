// Batching for work that is cheaper done for many callers at once (a group commit, a counter upsert): items added
// during a turn of the event loop are handed over together on the next (setImmediate, not a microtask: every request
// the poll phase has read joins the batch), and a batch is handed over only once the previous one has settled, so
// items that arrive meanwhile wait for it and join the next.

export interface BatchPerTurn<T> {
  add(item: T): void;
  /** Items are waiting, or a batch is being handled. */
  readonly busy: boolean;
}

/** `handle` answers every item of its batch itself (resolves or rejects each caller), and never rejects. */
export function batchPerTurn<T>(handle: (batch: T[]) => Promise<void>, options: { maxBatch?: number } = {}): BatchPerTurn<T> {
  const maxBatch = options.maxBatch ?? Infinity;
  const queue: T[] = [];
  let scheduled = false;
  let running = false;

  function schedule(): void {
    if (scheduled || running || !queue.length) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      running = true;
      handle(queue.splice(0, maxBatch)).finally(() => {
        running = false;
        schedule();
      });
    });
  }

  return {
    add(item) {
      queue.push(item);
      schedule();
    },
    get busy() {
      return queue.length > 0 || scheduled || running;
    },
  };
}
