// A bounded label that follows traffic: the N values seen most often (recently) get their own label, every other
// value is `other`. Counting is a space-saving summary (Metwally, Agrawal and El Abbadi's heavy-hitters counter) of
// a fixed number of entries, so memory stays bounded however many distinct values arrive; the labelled set is
// re-ranked from it every `rerankEvery` observations or `rerankMs`, whichever comes first, and the counts are then
// halved, so that the ranking follows the traffic of the last minutes rather than of the process's whole life.
// Between re-rankings a label is one Set lookup.

export const OTHER_LABEL = 'other';

export interface TopNOptions {
  /** Re-rank after this many observations (default 1000). */
  rerankEvery?: number;
  /** …or once this long has passed since the last re-ranking, at the next observation (default 10 s). */
  rerankMs?: number;
  /** Entries the summary keeps (default max(64, 4 × limit)); values outside it are only estimated. */
  capacity?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/**
 * Returns the label of a value (and counts the observation). A value that holds a label keeps it at a re-ranking
 * unless a challenger's count is more than twice its own: the labels do not flap between values of similar volume,
 * and each labelled series is a workspace that was really among the busiest.
 */
export function topNLabel(limit: number, options: TopNOptions = {}): (value: string) => string {
  const rerankEvery = options.rerankEvery ?? 1000;
  const rerankMs = options.rerankMs ?? 10_000;
  const capacity = Math.max(options.capacity ?? Math.max(64, 4 * limit), limit);
  const now = options.now ?? Date.now;
  /** Space-saving summary: value → [estimated count, overestimate bound]. */
  const counts = new Map<string, number>();
  const errors = new Map<string, number>();
  let labelled = new Set<string>();
  let observations = 0;
  let lastRerank = now();

  function observe(value: string): void {
    const n = counts.get(value);
    if (n !== undefined) {
      counts.set(value, n + 1);
      return;
    }
    if (counts.size < capacity) {
      counts.set(value, 1);
      errors.set(value, 0);
      return;
    }
    // Full: the new value takes the place of the least counted one, inheriting its count as its error bound.
    let minKey = '';
    let min = Infinity;
    for (const [k, c] of counts) {
      if (c < min) {
        min = c;
        minKey = k;
      }
    }
    counts.delete(minKey);
    errors.delete(minKey);
    counts.set(value, min + 1);
    errors.set(value, min);
  }

  function rerank(): void {
    // Ranked by the guaranteed part of each count (estimate − error bound); holders count double (hysteresis).
    const ranked: [string, number][] = [];
    for (const [k, c] of counts) {
      const guaranteed = c - (errors.get(k) ?? 0);
      if (guaranteed > 0) ranked.push([k, labelled.has(k) ? 2 * guaranteed : guaranteed]);
    }
    ranked.sort((x, y) => y[1] - x[1]);
    labelled = new Set(ranked.slice(0, limit).map(([k]) => k));
    for (const [k, c] of counts) {
      counts.set(k, c / 2);
      errors.set(k, (errors.get(k) ?? 0) / 2);
    }
    observations = 0;
    lastRerank = now();
  }

  return (value) => {
    if (limit <= 0) return OTHER_LABEL;
    observe(value);
    if (++observations >= rerankEvery || now() - lastRerank >= rerankMs) rerank();
    // A free place is taken at once: with N or fewer values there is nothing to rank.
    else if (labelled.size < limit && !labelled.has(value)) labelled.add(value);
    return labelled.has(value) ? value : OTHER_LABEL;
  };
}
