// The gateway: upstream MCP servers (Streamable HTTP, stdio) behind Tollgate's OAuth and credits, with no token
// passthrough. Upstreams are configured in the database (`tollgate upstream …`), so every process sees them; a
// change bumps a version that each serving process polls (and on PostgreSQL hears at once by NOTIFY), reloading
// without a restart. Their tools reach the MCP module as a LiveToolSource: on every workspace endpoint as
// `<upstream>__<tool>`, and on each upstream's own resource URL (`/<ws>/mcp/<upstream>`) under their own names,
// with the upstream's resources and prompts passed through.
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { MethodError, type LiveToolSource, type PassThroughMethods, type ServedServer } from '../tools/tool-source.ts';
import type { ToolDefinition } from '../tools/tool-types.ts';
import { GATEWAY_CHANNEL, gatewayStore, type StoredTool, type UpstreamToolDefinition } from './gateway-store.ts';
import { forwardedTokens, type ForwardSigner } from './forwarded-token.ts';
import { liveUpstream, type LiveUpstream } from './live-upstream.ts';
import { failureText, toolDefinition, workspaceToolName } from './upstream-tools.ts';
import type { Upstream } from './upstream-config.ts';
import { UpstreamRpcError } from './upstream-errors.ts';

export { gatewayMigrations } from './migrations.ts';
export type { GatewayStore, StoredTool } from './gateway-store.ts';
export type { Upstream, UpstreamTarget } from './upstream-config.ts';
export { priceOf, scopeOf, workspaceToolName } from './upstream-tools.ts';
export { describeTarget, UpstreamConfigError } from './upstream-config.ts';
export * as upstreamInput from './upstream-config.ts';

export type GatewayConfig = Pick<
  Config,
  'publicUrl' | 'gatewayTimeoutMs' | 'gatewayPollMs' | 'gatewayForwardedTokenTtlSeconds' | 'gatewayBreakerFailures' | 'gatewayBreakerCooldownMs'
>;

export interface GatewayDeps {
  readonly store: Store;
  /** Key material for sealing the upstreams' header and environment secrets. */
  readonly secret: string;
  readonly config: GatewayConfig;
  readonly logger: Logger;
  /** Tollgate's signing keys: the forwarded JWTs are verifiable against its JWKS. */
  readonly signer: ForwardSigner;
  /** The issuer named in forwarded JWTs. */
  readonly issuer: string;
  /** Restart backoff of stdio upstreams (tests shorten it). */
  readonly restartMinMs?: number;
}

/** Methods passed through to an upstream on its own endpoint, by the capability that offers them. */
const PASS_THROUGH: Record<string, string> = {
  'resources/list': 'resources',
  'resources/read': 'resources',
  'resources/templates/list': 'resources',
  'prompts/list': 'prompts',
  'prompts/get': 'prompts',
  'completion/complete': 'completions',
};

export function gatewayModule(deps: GatewayDeps) {
  const { config, logger } = deps;
  const store = gatewayStore(deps.store, deps.secret);
  const tokens = forwardedTokens(deps.signer, { issuer: deps.issuer, ttlSeconds: config.gatewayForwardedTokenTtlSeconds });
  const lives = new Map<string, LiveUpstream>();
  let storedTools: StoredTool[] = [];
  let workspaceTools: readonly ToolDefinition[] = [];
  let servers: ReadonlyMap<string, ServedServer> = new Map();
  const listeners: (() => void)[] = [];
  let version = -1;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: { close(): Promise<void> } | undefined;
  let started = false;
  let reloading: Promise<void> | undefined;
  let again = false;

  const sameTarget = (a: Upstream, b: Upstream) => JSON.stringify(a.target) === JSON.stringify(b.target) && a.timeoutMs === b.timeoutMs;

  function passThrough(live: LiveUpstream): PassThroughMethods | undefined {
    const caps = live.connection.capabilities ?? {};
    const offered: Record<string, unknown> = {};
    // Advertise only what the upstream really has (no subscriptions or list-change streams: the front is stateless).
    if (caps.resources) offered.resources = {};
    if (caps.prompts) offered.prompts = {};
    if (caps.completions) offered.completions = {};
    if (!Object.keys(offered).length) return undefined;
    return {
      capabilities: offered,
      handles: (method) => PASS_THROUGH[method] !== undefined && offered[PASS_THROUGH[method]] !== undefined,
      async call(method, params, ctx) {
        try {
          return await live.call(method, { ...params }, ctx);
        } catch (err) {
          if (err instanceof UpstreamRpcError) throw new MethodError(err.code, err.message, err.data);
          throw new MethodError(-32603, failureText(live.upstream.name, err, ctx.requestId));
        }
      },
    };
  }

  function rebuild(): void {
    const nextTools: ToolDefinition[] = [];
    const nextServers = new Map<string, ServedServer>();
    for (const live of lives.values()) {
      const own = storedTools.filter((t) => t.upstream === live.upstream.name);
      nextTools.push(...own.map((t) => toolDefinition(live, t, workspaceToolName(live.upstream.name, t.definition.name))));
      nextServers.set(live.upstream.name, {
        name: live.upstream.name,
        instructions: live.connection.instructions,
        tools: own.map((t) => toolDefinition(live, t, t.definition.name)),
        methods: passThrough(live),
      });
    }
    workspaceTools = nextTools;
    servers = nextServers;
    for (const l of listeners) l();
  }

  /** tools/list on the upstream (every page), recorded in the tables; announces a change only when there is one. */
  async function discover(live: LiveUpstream): Promise<UpstreamToolDefinition[]> {
    const tools: UpstreamToolDefinition[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await live.serviceCall('tools/list', cursor ? { cursor } : undefined);
      if (Array.isArray(result.tools)) for (const t of result.tools) if (t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string') tools.push(t as UpstreamToolDefinition);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor ? result.nextCursor : undefined;
      if (!cursor) break;
    }
    return tools;
  }

  /** Discovers, and on failure tries again with backoff (1 s doubling to 60 s) while the upstream is configured. */
  async function discoverAndRecord(live: LiveUpstream, attempt = 0): Promise<void> {
    try {
      const tools = await discover(live);
      const changed = await store.recordDiscovery(live.upstream.name, tools);
      logger.info({ upstream: live.upstream.name, tools: tools.length, changed }, 'upstream tools discovered');
      if (changed) await reload();
      else rebuild(); // capabilities and instructions are known now
    } catch (err) {
      const retryInMs = Math.min(60_000, 1000 * 2 ** attempt);
      logger.warn({ upstream: live.upstream.name, reason: (err as Error).message.slice(0, 200), retryInMs }, 'upstream tool discovery failed');
      const retry = setTimeout(() => {
        if (started && lives.get(live.upstream.name) === live) void discoverAndRecord(live, attempt + 1);
      }, retryInMs);
      retry.unref();
    }
  }

  function connect(upstream: Upstream): LiveUpstream {
    const live = liveUpstream(upstream, tokens, logger, {
      defaultTimeoutMs: config.gatewayTimeoutMs,
      breakerFailures: config.gatewayBreakerFailures,
      breakerCooldownMs: config.gatewayBreakerCooldownMs,
      restartMinMs: deps.restartMinMs,
    });
    // MCP: notifications/tools/list_changed → list again.
    live.connection.onServerNotification((m) => {
      if (m.method === 'notifications/tools/list_changed' && lives.get(upstream.name) === live) void discoverAndRecord(live);
    });
    return live;
  }

  async function reloadOnce(): Promise<void> {
    const v = await store.version();
    const [upstreams, tools] = await Promise.all([store.listUpstreams(), store.listTools()]);
    version = v;
    const fresh: LiveUpstream[] = [];
    const wanted = new Map(upstreams.map((u) => [u.name, u]));
    for (const [name, live] of lives) {
      const next = wanted.get(name);
      if (!next || !sameTarget(next, live.upstream)) {
        lives.delete(name);
        void live.close().catch(() => {});
      }
    }
    for (const u of upstreams) {
      const live = lives.get(u.name);
      if (!live) {
        const created = connect(u);
        lives.set(u.name, created);
        fresh.push(created);
      } else if (live.upstream.defaultPrice !== u.defaultPrice) {
        // Same connection, new price: keep the live upstream, refresh what it says about itself.
        (live as { upstream: Upstream }).upstream = u;
      }
    }
    storedTools = tools;
    rebuild();
    for (const live of fresh) void discoverAndRecord(live);
  }

  /** Reloads from the tables; concurrent triggers collapse into one more pass. */
  function reload(): Promise<void> {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          await reloadOnce();
        } while (again);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  }

  const liveTools: LiveToolSource = {
    tools: () => workspaceTools,
    servers: () => servers,
    subscribe: (listener) => void listeners.push(listener),
  };

  return {
    store,
    liveTools,
    /** Serving processes only: connects to every upstream, discovers tools, and watches for changes. */
    async start(): Promise<void> {
      if (started) return;
      started = true;
      await reload();
      const poll = async () => {
        try {
          if ((await store.version()) !== version) await reload();
        } catch (err) {
          logger.warn({ reason: (err as Error).message.slice(0, 200) }, 'gateway reload failed');
        }
      };
      timer = setInterval(() => void poll(), config.gatewayPollMs);
      timer.unref();
      // PostgreSQL: a change is heard at once; the poll stays as the fallback should a notification be lost.
      unlisten = deps.store.listen?.(GATEWAY_CHANNEL, () => void poll(), () => {});
    },
    /** Connects once to a configured upstream and lists its tools (the CLI, before any server discovered them). */
    async discoverNow(name: string): Promise<UpstreamToolDefinition[]> {
      const u = await store.getUpstream(name);
      if (!u) throw new Error(`No upstream named ${name}`);
      const live = connect(u);
      try {
        const tools = await discover(live);
        await store.recordDiscovery(name, tools);
        return tools;
      } finally {
        await live.close();
      }
    },
    /** Circuit state per upstream in this process (the admin page, diagnostics). */
    health(): { name: string; breaker: string; pid?: number }[] {
      return [...lives.values()].map((l) => ({ name: l.upstream.name, breaker: l.breaker.state, pid: l.connection.pid }));
    },
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      await unlisten?.close();
      await Promise.all([...lives.values()].map((l) => l.close().catch(() => {})));
      lives.clear();
    },
  };
}

export type Gateway = ReturnType<typeof gatewayModule>;
