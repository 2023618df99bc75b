import type { Generated } from 'kysely';

// The credits module's tables. Balances are integers; `credits_accounts.balance` is always the sum of the
// workspace's ledger rows, because both change in the same transaction and nothing else writes either.

export interface AccountsTable {
  workspace_id: string;
  balance: number;
  /** A plan name from the configured plans (`default` unless assigned). */
  plan: string;
  updated_at: number;
  /** When the workspace was suspended (its tool calls are refused); null when it is not (migration 0310). */
  suspended_at: number | null;
}

/** Why a ledger row exists. */
export type LedgerReason = 'initial' | 'grant' | 'purchase' | 'tool_call' | 'refund' | 'adjustment' | 'seed';

export interface LedgerTable {
  id: number;
  workspace_id: string;
  /** Signed: a deduction is negative. */
  amount: number;
  /** The balance right after this row (an audit aid; the sum of the ledger is what counts). */
  balance_after: number;
  reason: LedgerReason;
  /** Free text: the operator's reason, the payment reference. */
  description: string;
  tool: string | null;
  user_id: string | null;
  client_id: string | null;
  request_id: string | null;
  created_at: number;
}

/**
 * The counts every usage roll-up row carries. `calls` is every `tools/call` that reached a known tool; `errors` the
 * tool errors among them; the three refusal counts (migration 0301, 0 in older rows) the calls refused before the
 * handler ran. ok = calls − errors − bad_arguments − out_of_credits − rate_limited.
 */
export interface UsageCounts {
  calls: number;
  credits: number;
  errors: number;
  bad_arguments: number;
  out_of_credits: number;
  rate_limited: number;
}

/** Usage roll-up per UTC day × tool × client, updated in the same transaction as the ledger. */
export interface UsageDailyTable extends UsageCounts {
  workspace_id: string;
  /** Days since the Unix epoch (UTC). */
  day: number;
  tool: string;
  client_id: string;
}

/** The same usage summed over clients (per-tool answers read these few rows). */
export interface UsageDailyToolTable extends UsageCounts {
  workspace_id: string;
  day: number;
  tool: string;
}

/** The same usage summed over tools (per-client answers read these few rows). */
export interface UsageDailyClientTable extends UsageCounts {
  workspace_id: string;
  day: number;
  client_id: string;
}

/** Usage roll-up per UTC hour (for "spend in the last 24 hours" without scanning the ledger). */
export interface UsageHourlyTable extends UsageCounts {
  workspace_id: string;
  /** Hours since the Unix epoch. */
  hour: number;
}

/** Payment webhooks already applied, by idempotency key: a replay is a no-op. */
export interface WebhookEventsTable {
  idempotency_key: string;
  workspace_id: string;
  credits: number;
  /** SHA-256 of the body: the same key with another body is a conflict, not a replay. */
  body_sha256: string;
  ledger_id: number;
  received_at: number;
}

/** Fixed-window rate-limit counters (the `database` backend); UNLOGGED on PostgreSQL. */
export interface RateCountersTable {
  key: string;
  window_start: number;
  count: number;
}

/** A tool's price set as data (migration 0310); without a row the tool costs its own `cost`. */
export interface ToolPricesTable {
  tool: string;
  cost: number;
  updated_at: number;
}

/** A plan defined or overridden as data (migration 0310); configured plans are the defaults. */
export interface PlansTable {
  name: string;
  workspace_per_minute: number;
  grant_per_minute: number;
  updated_at: number;
}

export interface CreditsTables {
  credits_tool_prices: ToolPricesTable;
  credits_plans: PlansTable;
  credits_accounts: AccountsTable;
  credits_ledger: Omit<LedgerTable, 'id'> & { id: Generated<number> };
  credits_usage_daily: UsageDailyTable;
  credits_usage_daily_tool: UsageDailyToolTable;
  credits_usage_daily_client: UsageDailyClientTable;
  credits_usage_hourly: UsageHourlyTable;
  credits_webhook_events: WebhookEventsTable;
  credits_rate_counters: RateCountersTable;
}
