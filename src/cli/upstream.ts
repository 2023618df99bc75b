// `tollgate upstream …`: the MCP servers the gateway puts behind Tollgate. Stored in the database, so every serving
// process picks a change up within seconds; header and environment values are sealed and never printed back.
import { CommandError, UsageError, type Command } from './command.ts';
import { withServices } from './context.ts';
import { describeTarget, priceOf, scopeOf, upstreamInput, UpstreamConfigError, workspaceToolName, type UpstreamTarget } from '../gateway/index.ts';
import { cliAuditContext } from './audit-context.ts';

const list = (v: string | boolean | string[] | undefined): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

/** Input errors are usage errors; everything else is reported as it is. */
async function asUsage<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UpstreamConfigError) throw new CommandError(err.message);
    throw err;
  }
}

function table(rows: string[][], out: (s: string) => void): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) out(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
}

export const upstreamCommands: Command[] = [
  {
    path: ['upstream', 'add'],
    summary: 'Put an MCP server behind Tollgate: Streamable HTTP (--url) or stdio (--command); secrets in headers and env are sealed.',
    args: '<name> (--url <url> [--header "Name: value"]… | --command "<program and args>" [--env K=V]…) [--price <credits>] [--timeout <ms>]',
    positionals: 1,
    options: {
      url: { type: 'string' },
      header: { type: 'string', multiple: true },
      command: { type: 'string' },
      env: { type: 'string', multiple: true },
      price: { type: 'string', default: '1' },
      timeout: { type: 'string' },
    },
    async run({ values, positionals }, io) {
      const { checkName, checkUrl, checkPrice, checkTimeout, parseHeader, parseEnv, splitCommand } = upstreamInput;
      const input = await asUsage(() => {
        const name = checkName(positionals[0]);
        if ((values.url === undefined) === (values.command === undefined)) throw new UsageError('give exactly one of --url (Streamable HTTP) or --command (stdio)');
        if (values.url !== undefined && list(values.env).length) throw new UsageError('--env is for stdio upstreams (--command)');
        if (values.command !== undefined && list(values.header).length) throw new UsageError('--header is for HTTP upstreams (--url)');
        const target: UpstreamTarget =
          values.url !== undefined
            ? { transport: 'http', url: checkUrl(values.url as string), headers: Object.fromEntries(list(values.header).map(parseHeader)) }
            : { transport: 'stdio', command: splitCommand(values.command as string), env: Object.fromEntries(list(values.env).map(parseEnv)) };
        return { name, target, defaultPrice: checkPrice(values.price as string), timeoutMs: values.timeout === undefined ? null : checkTimeout(values.timeout as string) };
      });
      await withServices(io, async (s) => {
        const u = await asUsage(() => s.gateway.store.addUpstream(input, cliAuditContext('upstream add')));
        io.out(`Added upstream ${u.name}: ${describeTarget(u.target)}, ${u.defaultPrice} credit(s) per call by default.`);
        try {
          const tools = await s.gateway.discoverNow(u.name);
          io.out(`It lists ${tools.length} tool(s); see \`tollgate upstream tools ${u.name}\`. Running servers serve them within seconds.`);
        } catch (err) {
          io.err(`tollgate: could not list its tools now (${(err as Error).message.slice(0, 200)}); a running server retries when it picks the upstream up.`);
        }
      });
    },
  },
  {
    path: ['upstream', 'list'],
    summary: 'List the upstream MCP servers (header and env values are never shown).',
    async run(_input, io) {
      await withServices(io, async (s) => {
        const [upstreams, tools] = await Promise.all([s.gateway.store.listUpstreams(), s.gateway.store.listTools()]);
        if (!upstreams.length) {
          io.out('No upstreams. Add one with `tollgate upstream add <name> --url <url>` or `--command "<program>"`.');
          return;
        }
        const rows = [['NAME', 'TRANSPORT', 'TOOLS', 'PRICE', 'TIMEOUT', 'TARGET']];
        for (const u of upstreams) {
          rows.push([u.name, u.target.transport, String(tools.filter((t) => t.upstream === u.name).length), String(u.defaultPrice), u.timeoutMs === null ? 'default' : `${u.timeoutMs} ms`, describeTarget(u.target)]);
        }
        table(rows, io.out);
      });
    },
  },
  {
    path: ['upstream', 'tools'],
    summary: 'List an upstream\'s tools with their price and scope (--refresh lists them from the upstream again).',
    args: '<name> [--refresh]',
    positionals: 1,
    options: { refresh: { type: 'boolean' } },
    async run({ values, positionals }, io) {
      await withServices(io, async (s) => {
        const u = await s.gateway.store.getUpstream(positionals[0]);
        if (!u) throw new CommandError(`No upstream named ${positionals[0].slice(0, 40)}`);
        let tools = await s.gateway.store.listTools(u.name);
        if (values.refresh || !tools.length) {
          try {
            await s.gateway.discoverNow(u.name);
            tools = await s.gateway.store.listTools(u.name);
          } catch (err) {
            throw new CommandError(`Cannot list the tools of ${u.name}: ${(err as Error).message.slice(0, 200)}`);
          }
        }
        if (!tools.length) {
          io.out(`${u.name} lists no tools.`);
          return;
        }
        const rows = [['TOOL', 'ON WORKSPACE ENDPOINTS', 'PRICE', 'SCOPE']];
        for (const t of tools) rows.push([t.definition.name, workspaceToolName(u.name, t.definition.name), `${priceOf(t, u.defaultPrice)}${t.price === null ? ' (default)' : ''}`, `${scopeOf(t)}${t.scope === null ? ' (from readOnlyHint)' : ''}`]);
        table(rows, io.out);
      });
    },
  },
  {
    path: ['upstream', 'price'],
    summary: 'Set the credits a tool of an upstream costs per call (tool "*": the upstream\'s default price); --scope read|write overrides its scope.',
    args: '<name> <tool|*> <credits|default> [--scope read|write|auto]',
    positionals: 3,
    options: { scope: { type: 'string' } },
    async run({ values, positionals }, io) {
      const [name, tool, credits] = positionals;
      const scopeText = values.scope as string | undefined;
      if (scopeText !== undefined && !['read', 'write', 'auto'].includes(scopeText)) throw new UsageError('--scope must be read, write or auto');
      const scope = scopeText === undefined ? undefined : scopeText === 'auto' ? null : scopeText === 'read' ? ('mcp:read' as const) : ('mcp:write' as const);
      await withServices(io, async (s) => {
        await asUsage(async () => {
          if (tool === '*') {
            if (scope !== undefined) throw new UsageError('--scope is set per tool, not for "*"');
            const price = upstreamInput.checkPrice(credits);
            await s.gateway.store.setDefaultPrice(name, price, cliAuditContext('upstream price'));
            io.out(`${name}: tools without a price of their own now cost ${price} credit(s) per call.`);
            return;
          }
          const price = credits === 'default' ? null : upstreamInput.checkPrice(credits);
          await s.gateway.store.setToolPrice(name, tool, price, scope, cliAuditContext('upstream price'));
          io.out(`${name} ${tool}: ${price === null ? 'the upstream\'s default price' : `${price} credit(s) per call`}${scope === undefined ? '' : `, scope ${scope ?? 'from readOnlyHint'}`}.`);
        });
      });
    },
  },
  {
    path: ['upstream', 'remove'],
    summary: 'Stop serving an upstream MCP server (its tools disappear from every endpoint within seconds).',
    args: '<name>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        if (!(await s.gateway.store.removeUpstream(positionals[0], cliAuditContext('upstream remove')))) throw new CommandError(`No upstream named ${positionals[0].slice(0, 40)}`);
        io.out(`Removed upstream ${positionals[0]}.`);
      });
    },
  },
];
