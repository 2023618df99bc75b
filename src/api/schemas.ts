// The JSON Schemas the operations share. Timestamps are RFC 3339 strings; ids are strings.
import type { JsonSchema } from './operation.ts';

export const WORKSPACE_SLUG_SCHEMA: JsonSchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$', description: 'The workspace slug (its URL path segment).' };
export const EXTERNAL_ID_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: "The company's own id for the workspace (e.g. its customer id), unique." };
export const TIMESTAMP: JsonSchema = { type: 'string', format: 'date-time' };
export const NULLABLE_TIMESTAMP: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const ID_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_.:-]+$' };

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const obj = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({ type: 'object', additionalProperties: false, required, properties });

const INVITATION_PROPERTIES: Record<string, JsonSchema> = {
  id: { type: 'string' },
  workspace: WORKSPACE_SLUG_SCHEMA,
  email: { type: 'string' },
  role: { enum: ['owner', 'admin', 'member'] },
  state: { enum: ['pending', 'expired', 'revoked'] },
  created_at: TIMESTAMP,
  expires_at: TIMESTAMP,
  mailed_at: NULLABLE_TIMESTAMP,
};

/** Named schemas: the document's `components.schemas`, and what `ref()` points at. */
export const COMPONENTS: Record<string, JsonSchema> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details.',
    required: ['type', 'title', 'status', 'detail', 'code', 'request_id'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      instance: { type: 'string' },
      code: { type: 'string' },
      request_id: { type: 'string' },
      errors: { type: 'array', items: obj({ pointer: { type: 'string' }, detail: { type: 'string' } }) },
    },
  },
  Workspace: obj({
    id: { type: 'string' },
    slug: WORKSPACE_SLUG_SCHEMA,
    name: { type: 'string' },
    external_id: { type: ['string', 'null'] },
    plan: { type: 'string' },
    balance: { type: 'integer', minimum: 0 },
    suspended: { type: 'boolean' },
    mcp_url: { type: 'string', format: 'uri' },
    created_at: TIMESTAMP,
  }),
  Member: obj({ user_id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, role: { enum: ['owner', 'admin', 'member'] } }),
  Invitation: obj(INVITATION_PROPERTIES),
  InvitationCreated: obj({
    ...INVITATION_PROPERTIES,
    url: { type: 'string', format: 'uri', description: 'The single-use invitation link: shown once, here only.' },
    mailed: { type: 'boolean', description: 'Whether the mail server took the invitation mail (false without TOLLGATE_SMTP_URL).' },
  }),
  Balance: obj({ workspace: WORKSPACE_SLUG_SCHEMA, balance: { type: 'integer', minimum: 0 }, plan: { type: 'string' }, suspended: { type: 'boolean' } }),
  LedgerEntry: obj({
    id: { type: 'integer' },
    amount: { type: 'integer' },
    balance_after: { type: 'integer', minimum: 0 },
    reason: { enum: ['initial', 'grant', 'purchase', 'tool_call', 'refund', 'adjustment', 'seed'] },
    description: { type: 'string' },
    tool: { type: ['string', 'null'] },
    user_id: { type: ['string', 'null'] },
    client_id: { type: ['string', 'null'] },
    request_id: { type: ['string', 'null'] },
    created_at: TIMESTAMP,
  }),
  CreditChange: obj({ workspace: WORKSPACE_SLUG_SCHEMA, balance: { type: 'integer', minimum: 0 }, entry: ref('LedgerEntry') }),
  Plan: obj({
    name: { type: 'string' },
    workspace_per_minute: { type: 'integer', minimum: 1 },
    grant_per_minute: { type: 'integer', minimum: 1 },
    source: { enum: ['config', 'database'], description: '`config`: from the configuration; `database`: set through the API, CLI or admin page.' },
  }),
  WorkspacePlan: obj({ workspace: WORKSPACE_SLUG_SCHEMA, plan: ref('Plan') }),
  Price: obj({
    tool: { type: 'string' },
    cost: { type: 'integer', minimum: 0, description: 'What a call costs now.' },
    default_cost: { type: ['integer', 'null'], minimum: 0, description: "The tool's own cost (null: no such tool is registered)." },
    overridden: { type: 'boolean' },
  }),
  Client: obj(
    {
      client_id: { type: 'string' },
      client_name: { type: 'string' },
      redirect_uris: { type: 'array', items: { type: 'string' } },
      token_endpoint_auth_method: { enum: ['none', 'client_secret_basic', 'client_secret_post'] },
      created_at: TIMESTAMP,
      client_secret: { type: 'string', description: 'Shown once: on creation and rotation only.' },
      previous_secret_valid_until: NULLABLE_TIMESTAMP,
    },
    ['client_id', 'client_name', 'redirect_uris', 'token_endpoint_auth_method', 'created_at'],
  ),
  Grant: obj({
    id: { type: 'string' },
    client_id: { type: 'string' },
    user_id: { type: 'string' },
    workspace: { type: ['string', 'null'] },
    resource: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    created_at: TIMESTAMP,
    last_used_at: NULLABLE_TIMESTAMP,
    revoked_at: NULLABLE_TIMESTAMP,
  }),
  AuditEntry: obj({
    id: { type: 'integer' },
    at: TIMESTAMP,
    actor: obj({ type: { enum: ['user', 'cli', 'api_key', 'system', 'anonymous'] }, id: { type: ['string', 'null'] }, label: { type: ['string', 'null'], description: 'An email, an API key name, the OS user at the CLI.' } }),
    action: { type: 'string', description: '`<thing>.<verb>`: `workspace.created`, `member.role_changed`, `credits.granted`, `client.secret_rotated`, `signin.failed`, …' },
    target: obj({ type: { type: 'string' }, id: { type: 'string' } }),
    workspace_id: { type: ['string', 'null'] },
    workspace: { type: ['string', 'null'], description: "The workspace's slug (null: deployment-wide, or the workspace was deleted)." },
    before: { description: 'The state before, where it matters (JSON; secrets never recorded).' },
    after: { description: 'The state after, where it matters (JSON; secrets never recorded).' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    request_id: { type: ['string', 'null'] },
  }),
  UsageTotals: obj({ calls: { type: 'integer' }, credits: { type: 'integer' }, errors: { type: 'integer' } }),
  Usage: obj({
    workspace: WORKSPACE_SLUG_SCHEMA,
    from: { type: 'string', format: 'date' },
    to: { type: 'string', format: 'date' },
    totals: ref('UsageTotals'),
    by_day: { type: 'array', items: obj({ date: { type: 'string', format: 'date' }, calls: { type: 'integer' }, credits: { type: 'integer' }, errors: { type: 'integer' } }) },
    by_tool: { type: 'array', items: obj({ tool: { type: 'string' }, calls: { type: 'integer' }, credits: { type: 'integer' }, errors: { type: 'integer' } }) },
    by_client: { type: 'array', items: obj({ client_id: { type: 'string' }, calls: { type: 'integer' }, credits: { type: 'integer' }, errors: { type: 'integer' } }) },
  }),
};

/** A page of `item`: every list answers one. */
export const pageOf = (item: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['data', 'next_cursor'],
  properties: { data: { type: 'array', items: ref(item) }, next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' } },
});

/** `limit` and `cursor`, which every list takes. */
export const PAGING_QUERY: Record<string, JsonSchema> = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' },
};

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
