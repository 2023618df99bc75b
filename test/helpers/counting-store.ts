// A store whose `typed()` handle counts the transactions opened through it and the statements run on it directly, outside
// a transaction (everything else passes straight through): for tests that check how many transactions or statements a
// batch of writes takes.
import type { Kysely } from 'kysely';
import type { Store } from '../../src/store/store.ts';

export function transactionCounting(store: Store): { store: Store; counter: { transactions: number; statements: number } } {
  const counter = { transactions: 0, statements: 0 };
  const db = store.typed<unknown>();
  const counting: Store = {
    ...store,
    typed: <T,>() =>
      new Proxy(db, {
        get(target, prop) {
          if (prop === 'transaction') return () => (counter.transactions++, target.transaction());
          if (prop === 'executeQuery') counter.statements++;
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as unknown as Kysely<T>,
  };
  return { store: counting, counter };
}
