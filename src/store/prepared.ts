// Queries of a hot path (a tool call, a token refresh), built and compiled by Kysely once per shape, then run with each
// call's values.
// Building and compiling a query (an immutable node tree, then SQL text) costs more than SQLite takes to run it; the
// SQL text of a shape never changes, so it is made once and only the parameters are filled in per call.
import type { CompiledQuery, Compilable } from 'kysely';

/** Stands for the i-th value in a query built once; compiled to a parameter like any value. */
class Slot {
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }
}

export type SlotOf = (index: number) => unknown;
export type PreparedQuery<R> = (values: readonly unknown[]) => CompiledQuery<R>;

/**
 * Compiles `build(slot)` once, where `slot(i)` stands for `values[i]` of each later call (a value used in the query,
 * never an identifier). Constants the builder adds itself stay as they were compiled.
 */
export function prepareQuery<R>(build: (slot: SlotOf) => Compilable<R>): PreparedQuery<R> {
  const compiled = build((i) => new Slot(i)).compile();
  const plan = compiled.parameters.map((p) => (p instanceof Slot ? p.index : { constant: p }));
  return (values) => ({ ...compiled, parameters: plan.map((p) => (typeof p === 'number' ? values[p] : p.constant)) });
}

/**
 * Multi-row statements (`values (…), (…)`) are one shape per row count; splitting a run of rows into power-of-two
 * chunks (37 = 32 + 4 + 1) keeps the shapes — and the compiled queries and prepared statements — to a handful.
 */
export function powerOfTwoChunks(n: number, max = 256): number[] {
  const out: number[] = [];
  let left = n;
  while (left > 0) {
    let size = max;
    while (size > left) size >>= 1;
    out.push(size);
    left -= size;
  }
  return out;
}
