// `tollgate admin api-keys …`, `tollgate admin prices …`, `tollgate admin plans …`: management API keys, per-tool
// prices and plans as data, on the configured database.
import { CommandError, UsageError, type Command } from './command.ts';
import { requireWorkspace, withServices } from './context.ts';
import { cliAuditContext } from './audit-context.ts';
import { ApiKeyError } from '../api/index.ts';
import { CreditsError } from '../credits/index.ts';

const n = (x: number) => x.toLocaleString('en-US');
const when = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));
const whole = (text: string, what: string, min = 0) => {
  if (!/^\d{1,13}$/.test(text) || Number(text) < min) throw new UsageError(`${what} must be a whole number${min ? ` from ${min}` : ''}, not "${text.slice(0, 20)}"`);
  return Number(text);
};
const userFacing = (err: unknown): never => {
  if (err instanceof ApiKeyError || err instanceof CreditsError) throw new CommandError(err.message);
  throw err;
};

/** `30d`, `12h`, `90m` → milliseconds. */
function parseDuration(text: string): number {
  const m = /^(\d{1,6})([dhm])$/.exec(text);
  if (!m) throw new UsageError(`--expires-in takes a number and d, h or m (e.g. 90d), not "${text.slice(0, 20)}"`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
}

export const apiCommands: Command[] = [
  {
    path: ['admin', 'api-keys', 'create'],
    summary: 'Create a management API key (printed once; stored hashed).',
    args: '<name> [--access read|write] [--workspace <slug>] [--expires-in <90d|12h|30m>]',
    positionals: 1,
    options: { access: { type: 'string', default: 'read' }, workspace: { type: 'string' }, 'expires-in': { type: 'string' } },
    async run({ values, positionals }, io) {
      const access = values.access as string;
      if (access !== 'read' && access !== 'write') throw new UsageError('--access is read or write');
      const expiresAt = values['expires-in'] ? Date.now() + parseDuration(values['expires-in'] as string) : null;
      await withServices(io, async (s) => {
        const workspaceId = values.workspace ? (await requireWorkspace(s, values.workspace as string)).id : null;
        const { key, secret } = await s.api.keys.createKey({ name: positionals[0], access, workspaceId, expiresAt }, cliAuditContext('admin api-keys create')).catch(userFacing);
        io.out(`Created API key ${key.id} (${key.access}, ${values.workspace ? `workspace ${values.workspace}` : 'every workspace'}, expires ${when(key.expiresAt)}).`);
        io.out('The key, shown this once (send it as Authorization: Bearer …):');
        io.out(secret);
      });
    },
  },
  {
    path: ['admin', 'api-keys', 'list'],
    summary: 'List management API keys (never their secrets).',
    async run(_input, io) {
      await withServices(io, async (s) => {
        const keys = await s.api.keys.listKeys();
        if (!keys.length) return io.out('No API keys. Create one with `tollgate admin api-keys create <name>`.');
        const slugs = new Map<string, string>();
        for (const k of keys) if (k.workspaceId && !slugs.has(k.workspaceId)) slugs.set(k.workspaceId, (await s.accounts.workspaces.getWorkspace(k.workspaceId))?.slug ?? '?');
        for (const k of keys) {
          const state = k.revokedAt ? `revoked ${when(k.revokedAt)}` : k.expiresAt !== null && k.expiresAt <= Date.now() ? 'expired' : 'live';
          io.out(`${k.id}  ${k.access.padEnd(5)}  ${(k.workspaceId ? slugs.get(k.workspaceId)! : '*').padEnd(20)}  ${state.padEnd(8)}  last used ${when(k.lastUsedAt)}  expires ${when(k.expiresAt)}  ${k.name}`);
        }
      });
    },
  },
  {
    path: ['admin', 'api-keys', 'revoke'],
    summary: 'Revoke a management API key (it stops working at once).',
    args: '<key-id>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const key = await s.api.keys.getKey(positionals[0]);
        if (!key) throw new CommandError(`No API key ${positionals[0].slice(0, 40)}`);
        io.out((await s.api.keys.revokeKey(key.id, cliAuditContext('admin api-keys revoke'))) ? `Revoked API key ${key.id} (${key.name}).` : `API key ${key.id} was already revoked.`);
      });
    },
  },
  {
    path: ['admin', 'prices', 'list'],
    summary: "Every tool's price: its own cost, or the override set as data.",
    async run(_input, io) {
      await withServices(io, async (s) => {
        const overrides = new Map((await s.credits.listPrices()).map((p) => [p.tool, p.cost]));
        for (const t of s.tools) io.out(`${t.name.padEnd(28)} ${n(overrides.get(t.name) ?? t.cost).padStart(8)}${overrides.has(t.name) ? `  (set; own cost ${n(t.cost)})` : ''}`);
        for (const [tool, cost] of overrides) if (!s.tools.some((t) => t.name === tool)) io.out(`${tool.padEnd(28)} ${n(cost).padStart(8)}  (set; no such tool registered)`);
      });
    },
  },
  {
    path: ['admin', 'prices', 'set'],
    summary: 'Set what a call of a tool costs (0: free), in every process within seconds.',
    args: '<tool> <credits>',
    positionals: 2,
    async run({ positionals }, io) {
      const cost = whole(positionals[1], 'credits');
      await withServices(io, async (s) => {
        const p = await s.credits.setPrice(positionals[0], cost, cliAuditContext('admin prices set')).catch(userFacing);
        io.out(`${p.tool} now costs ${n(p.cost)} credit${p.cost === 1 ? '' : 's'} a call.`);
      });
    },
  },
  {
    path: ['admin', 'prices', 'clear'],
    summary: "Drop a tool's price override: it costs its own price again.",
    args: '<tool>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        if (!(await s.credits.clearPrice(positionals[0], cliAuditContext('admin prices clear')))) throw new CommandError(`No price override for "${positionals[0].slice(0, 60)}"`);
        io.out(`${positionals[0]} costs its own price again.`);
      });
    },
  },
  {
    path: ['admin', 'plans', 'list'],
    summary: 'Every plan (configured, or set as data) with its limits.',
    async run(_input, io) {
      await withServices(io, async (s) => {
        for (const p of await s.credits.listPlans()) io.out(`${p.name.padEnd(20)} ${n(p.workspacePerMinute)} calls/min per workspace, ${n(p.grantPerMinute)} per grant  (${p.source === 'config' ? 'configuration' : 'set as data'})`);
      });
    },
  },
  {
    path: ['admin', 'plans', 'set'],
    summary: 'Create a plan or change its limits (calls per minute per workspace, and per grant).',
    args: '<name> <workspace-per-minute> [<grant-per-minute>]',
    positionals: [2, 3],
    async run({ positionals }, io) {
      const ws = whole(positionals[1], 'workspace-per-minute', 1);
      const grant = positionals[2] === undefined ? ws : whole(positionals[2], 'grant-per-minute', 1);
      await withServices(io, async (s) => {
        const p = await s.credits.upsertPlan({ name: positionals[0], workspacePerMinute: ws, grantPerMinute: grant }, cliAuditContext('admin plans set')).catch(userFacing);
        io.out(`Plan ${p.name}: ${n(p.workspacePerMinute)} calls/min per workspace, ${n(p.grantPerMinute)} per grant.`);
      });
    },
  },
  {
    path: ['admin', 'plans', 'delete'],
    summary: 'Delete a plan set as data (a configured plan it overrode comes back).',
    args: '<name>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const outcome = await s.credits.deletePlan(positionals[0], cliAuditContext('admin plans delete')).catch(userFacing);
        io.out(outcome === 'reverted' ? `Plan ${positionals[0]} is back to its configured limits.` : `Deleted plan ${positionals[0]}; its workspaces are on default now.`);
      });
    },
  },
];
