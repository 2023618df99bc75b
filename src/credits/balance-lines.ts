// The balance lines that send an outbound event: `credits.exhausted` when a balance reaches zero, `credits.low`
// when it falls to the low-balance line (TOLLGATE_LOW_BALANCE_CREDITS) or below without reaching zero. One rule for
// every path that lowers a balance: the tool-call ledger writer's batches, and grants/deductions through the API,
// the CLI and the admin pages (ledger.ts). Each calls it in its own transaction and enqueues what it returns.
import type { OutboundEvent } from '../webhooks/index.ts';

/** The line a balance moving from `start` to `end` crosses, if any: zero (exhausted) or the low-balance line. */
export function lineCrossed(start: number, end: number, low: number | undefined): 'credits.exhausted' | 'credits.low' | undefined {
  if (low === undefined || start === end) return undefined;
  if (start > 0 && end === 0) return 'credits.exhausted';
  if (start > low && end <= low && end > 0) return 'credits.low';
  return undefined;
}

/** The `credits.low` / `credits.exhausted` events of a change: each workspace whose balance crossed a line in it. */
export function balanceCrossings(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, low: number | undefined): OutboundEvent[] {
  const events: OutboundEvent[] = [];
  for (const [workspaceId, end] of after) {
    const start = before.get(workspaceId);
    const line = start === undefined ? undefined : lineCrossed(start, end, low);
    if (line === 'credits.exhausted') events.push({ type: line, workspaceId, data: { workspace_id: workspaceId, balance: 0 } });
    else if (line === 'credits.low') events.push({ type: line, workspaceId, data: { workspace_id: workspaceId, balance: end, threshold: low } });
  }
  return events;
}
