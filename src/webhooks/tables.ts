export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** null: the whole deployment (every workspace's events and the deployment's own). */
  workspace_id: string | null;
  /** The signing secret (`whsec_…`), sealed with TOLLGATE_SECRET (it must be recovered to sign). */
  secret_sealed: string;
  /** Comma-separated event types, or `*`. */
  events: string;
  description: string;
  created_at: number;
}

export interface WebhookEventsTable {
  /** The event id receivers dedupe by (`webhook-id`). */
  id: string;
  type: string;
  workspace_id: string | null;
  /** The JSON body sent: `{ type, timestamp, data }`. */
  payload: string;
  created_at: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  /** A worker holds the row until then; another may take it after (the holder died). */
  lease_until: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

export interface WebhooksTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
