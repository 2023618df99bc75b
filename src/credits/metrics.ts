// Credits metrics: what was spent and refunded (by workspace: the N busiest, the rest `other`), and the
// ledger writer's group commits (calls per batch, commit latency).
import { counter, histogram, QUERY_BUCKETS } from '../observability/metrics.ts';
import { workspaceLabel } from '../observability/labels.ts';

const spent = counter('tollgate_credits_spent_total', 'Credits deducted for tool calls, by workspace.', ['workspace']);
const refunded = counter('tollgate_credits_refunded_total', 'Credits given back for failed tool calls, by workspace.', ['workspace']);
const batchSize = histogram('tollgate_ledger_batch_size', 'Operations (charges, refunds, refusals) written in one ledger group commit.', [], [1, 2, 5, 10, 20, 50, 100, 200, 500]);
const commitSeconds = histogram('tollgate_ledger_commit_duration_seconds', 'How long one ledger group commit took (transaction and durable sync), by result.', ['result'], [...QUERY_BUCKETS, 5]);

export const creditsMetrics = {
  spent: (workspaceSlug: string, credits: number) => spent.child(workspaceLabel(workspaceSlug)).inc(credits),
  refunded: (workspaceSlug: string, credits: number) => refunded.child(workspaceLabel(workspaceSlug)).inc(credits),
  batch: (operations: number, ms: number, ok: boolean) => {
    batchSize.child().observe(operations);
    commitSeconds.child(ok ? 'committed' : 'failed').observe(ms / 1000);
  },
  counters: { spent, refunded, batchSize, commitSeconds },
};
