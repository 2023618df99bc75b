// The gateway's storage: upstreams (secrets sealed with a key from TOLLGATE_SECRET, as the signing keys are), their
// discovered tools with prices and scopes, and a version counter bumped in the same transaction as every change, so
// that every process notices within its poll interval (or at once on PostgreSQL, by NOTIFY).
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/crypto-box.ts';
import type { GatewayTables, GatewayToolsTable, GatewayUpstreamsTable } from './tables.ts';
import { UpstreamConfigError, type Upstream, type UpstreamTarget } from './upstream-config.ts';
import { recordAudit, type AuditContext, type AuditEntry } from '../audit/index.ts';

/** The PostgreSQL channel on which a change is announced (payload: the new version). */
export const GATEWAY_CHANNEL = 'tollgate_gateway';

export type ToolScopeName = 'mcp:read' | 'mcp:write';

/** A tool as the upstream lists it (MCP `Tool`). */
export interface UpstreamToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export interface StoredTool {
  readonly upstream: string;
  readonly definition: UpstreamToolDefinition;
  /** The configured price, or null for the upstream's default. */
  readonly price: number | null;
  /** The configured scope, or null for the one `readOnlyHint` implies. */
  readonly scope: ToolScopeName | null;
  readonly discoveredAt: number;
}

export function gatewayStore(store: Store, secret: string) {
  const db: Kysely<GatewayTables> = store.typed<GatewayTables>();
  const box = new SecretBox(secret, 'gateway-upstream-secrets');

  const sealMap = (m: Readonly<Record<string, string>>): string | null => (Object.keys(m).length ? box.seal(JSON.stringify(m)) : null);
  function openMap(sealed: string | null, upstream: string): Record<string, string> {
    if (!sealed) return {};
    try {
      return JSON.parse(box.open(sealed)) as Record<string, string>;
    } catch {
      throw new UpstreamConfigError(`Cannot decrypt the secrets of upstream ${upstream}: TOLLGATE_SECRET (or the data directory's secret file) differs from the one that stored them`);
    }
  }

  function toUpstream(row: GatewayUpstreamsTable): Upstream {
    const target: UpstreamTarget =
      row.transport === 'http'
        ? { transport: 'http', url: row.url ?? '', headers: openMap(row.headers_sealed, row.name) }
        : { transport: 'stdio', command: JSON.parse(row.command ?? '[]') as string[], env: openMap(row.env_sealed, row.name) };
    return { name: row.name, target, defaultPrice: Number(row.default_price), timeoutMs: row.timeout_ms === null ? null : Number(row.timeout_ms), updatedAt: Number(row.updated_at) };
  }

  const toTool = (row: GatewayToolsTable): StoredTool => ({
    upstream: row.upstream,
    definition: JSON.parse(row.definition) as UpstreamToolDefinition,
    price: row.price === null ? null : Number(row.price),
    scope: row.scope === 'mcp:read' || row.scope === 'mcp:write' ? row.scope : null,
    discoveredAt: Number(row.discovered_at),
  });

  /** Runs `work` and bumps the version in one transaction (with its audit entry); on PostgreSQL the commit is announced. */
  async function changing<T>(work: (trx: Kysely<GatewayTables>) => Promise<T>, audit?: AuditEntry | ((result: T) => AuditEntry | undefined)): Promise<T> {
    return db.transaction().execute(async (trx) => {
      const result = await work(trx);
      const entry = typeof audit === 'function' ? audit(result) : audit;
      if (entry) await recordAudit(trx as never, entry);
      await trx.updateTable('gateway_state').set({ version: sql`version + 1` }).where('id', '=', 1).execute();
      // PostgreSQL: NOTIFY is delivered at commit, so listeners never reload before the change is visible.
      if (store.dialect === 'postgres') await sql`select pg_notify(${GATEWAY_CHANNEL}, '')`.execute(trx);
      return result;
    });
  }

  async function requireUpstream(trx: Kysely<GatewayTables>, name: string): Promise<void> {
    const row = await trx.selectFrom('gateway_upstreams').select('name').where('name', '=', name).executeTakeFirst();
    if (!row) throw new UpstreamConfigError(`No upstream named ${name}`);
  }

  return {
    async version(): Promise<number> {
      const row = await db.selectFrom('gateway_state').select('version').where('id', '=', 1).executeTakeFirst();
      return Number(row?.version ?? 0);
    },

    async addUpstream(input: { name: string; target: UpstreamTarget; defaultPrice: number; timeoutMs: number | null }, audit?: AuditContext): Promise<Upstream> {
      const now = Date.now();
      const t = input.target;
      const row: GatewayUpstreamsTable = {
        name: input.name,
        transport: t.transport,
        url: t.transport === 'http' ? t.url : null,
        command: t.transport === 'stdio' ? JSON.stringify(t.command) : null,
        headers_sealed: t.transport === 'http' ? sealMap(t.headers) : null,
        env_sealed: t.transport === 'stdio' ? sealMap(t.env) : null,
        default_price: input.defaultPrice,
        timeout_ms: input.timeoutMs,
        created_at: now,
        updated_at: now,
      };
      await changing(async (trx) => {
        const existing = await trx.selectFrom('gateway_upstreams').select('name').where('name', '=', input.name).executeTakeFirst();
        if (existing) throw new UpstreamConfigError(`An upstream named ${input.name} exists already (remove it first)`);
        await trx.insertInto('gateway_upstreams').values(row).execute();
      }, audit && {
        ...audit,
        action: 'upstream.added',
        target: { type: 'upstream', id: input.name },
        // Header and environment values are secrets: only their names are recorded.
        after: { transport: t.transport, url: row.url, command: t.transport === 'stdio' ? t.command[0] : undefined, header_names: t.transport === 'http' ? Object.keys(t.headers) : undefined, env_names: t.transport === 'stdio' ? Object.keys(t.env) : undefined, default_price: input.defaultPrice },
      });
      return toUpstream(row);
    },

    async listUpstreams(): Promise<Upstream[]> {
      const rows = await db.selectFrom('gateway_upstreams').selectAll().orderBy('name').execute();
      return rows.map(toUpstream);
    },

    async getUpstream(name: string): Promise<Upstream | undefined> {
      const row = await db.selectFrom('gateway_upstreams').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toUpstream(row) : undefined;
    },

    async removeUpstream(name: string, audit?: AuditContext): Promise<boolean> {
      return changing(async (trx) => {
        await trx.deleteFrom('gateway_tools').where('upstream', '=', name).execute();
        const r = await trx.deleteFrom('gateway_upstreams').where('name', '=', name).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }, (removed) => (audit && removed ? { ...audit, action: 'upstream.removed', target: { type: 'upstream', id: name } } : undefined));
    },

    async setDefaultPrice(name: string, price: number, audit?: AuditContext): Promise<void> {
      await changing(async (trx) => {
        await requireUpstream(trx, name);
        await trx.updateTable('gateway_upstreams').set({ default_price: price, updated_at: Date.now() }).where('name', '=', name).execute();
      }, audit && { ...audit, action: 'upstream.price_changed', target: { type: 'upstream', id: name }, after: { default_price: price } });
    },

    /** A tool's price (null: back to the default) and scope (undefined: unchanged; null: from readOnlyHint). */
    async setToolPrice(name: string, tool: string, price: number | null, scope?: ToolScopeName | null, audit?: AuditContext): Promise<void> {
      await changing(async (trx) => {
        await requireUpstream(trx, name);
        const found = await trx.selectFrom('gateway_tools').select('name').where('upstream', '=', name).where('name', '=', tool).executeTakeFirst();
        if (!found) throw new UpstreamConfigError(`Upstream ${name} has no tool named ${tool.slice(0, 128)} (see \`tollgate upstream tools ${name}\`)`);
        await trx.updateTable('gateway_tools').set({ price, ...(scope === undefined ? {} : { scope }) }).where('upstream', '=', name).where('name', '=', tool).execute();
      }, audit && { ...audit, action: 'upstream.tool_price_changed', target: { type: 'upstream_tool', id: `${name}/${tool}` }, after: { price, scope } });
    },

    async listTools(name?: string): Promise<StoredTool[]> {
      let q = db.selectFrom('gateway_tools').selectAll();
      if (name !== undefined) q = q.where('upstream', '=', name);
      return (await q.orderBy('upstream').orderBy('name').execute()).map(toTool);
    },

    /**
     * Records what discovery found: new tools are added, gone ones removed, prices and scopes kept. Bumps the version
     * only when the list really changed (every process discovers at start; that alone must not make the others reload).
     */
    async recordDiscovery(name: string, tools: readonly UpstreamToolDefinition[]): Promise<boolean> {
      const current = await db.selectFrom('gateway_tools').select(['name', 'definition']).where('upstream', '=', name).execute();
      const before = new Map(current.map((r) => [r.name, r.definition]));
      const after = new Map(tools.map((t) => [t.name, JSON.stringify(t)]));
      const same = before.size === after.size && [...after].every(([n, d]) => before.get(n) === d);
      if (same) return false;
      const now = Date.now();
      await changing(async (trx) => {
        const exists = await trx.selectFrom('gateway_upstreams').select('name').where('name', '=', name).executeTakeFirst();
        if (!exists) return;
        for (const gone of before.keys()) if (!after.has(gone)) await trx.deleteFrom('gateway_tools').where('upstream', '=', name).where('name', '=', gone).execute();
        for (const [toolName, definition] of after) {
          if (before.get(toolName) === definition) continue;
          if (before.has(toolName)) await trx.updateTable('gateway_tools').set({ definition, discovered_at: now }).where('upstream', '=', name).where('name', '=', toolName).execute();
          else await trx.insertInto('gateway_tools').values({ upstream: name, name: toolName, definition, price: null, scope: null, discovered_at: now }).execute();
        }
      });
      return true;
    },
  };
}

export type GatewayStore = ReturnType<typeof gatewayStore>;
