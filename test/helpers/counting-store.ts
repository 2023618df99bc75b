// A store whose `typed()` handle counts the transactions opened through it (everything else passes straight through):
// for tests that check how many transactions a batch of writes takes.
import type { Kysely } from 'kysely';
import type { Store } from '../../src/store/store.ts';

export function transactionCounting(store: Store): { store: Store; counter: { transactions: number } } {
  const counter = { transactions: 0 };
  const db = store.typed<unknown>();
  const counting: Store = {
    ...store,
    typed: <T,>() =>
      new Proxy(db, {
        get(target, prop) {
          if (prop === 'transaction') return () => (counter.transactions++, target.transaction());
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as unknown as Kysely<T>,
  };
  return { store: counting, counter };
}
