// `tollgate admin webhooks …`: register, list and remove outbound webhook endpoints (per deployment or per
// workspace). The signing secret is printed once, when the endpoint is added.
import { CommandError, type Command } from './command.ts';
import { requireWorkspace, withServices } from './context.ts';
import { table } from './format.ts';
import { EVENT_TYPES, WebhooksError } from '../webhooks/index.ts';
import { cliAuditContext } from './audit-context.ts';

export const webhookCommands: Command[] = [
  {
    path: ['admin', 'webhooks', 'add'],
    summary: 'Register an endpoint for outbound events; prints its signing secret once.',
    args: `<url> [--workspace <slug>] [--events ${EVENT_TYPES.slice(0, 2).join(',')},…|*] [--description <text>]`,
    positionals: 1,
    options: { workspace: { type: 'string' }, events: { type: 'string' }, description: { type: 'string' } },
    async run({ values, positionals }, io) {
      await withServices(io, async (s) => {
        const workspaceId = values.workspace ? (await requireWorkspace(s, values.workspace as string)).id : null;
        try {
          const { endpoint, secret } = await s.webhooks.endpoints.addEndpoint({ url: positionals[0], workspaceId, events: values.events as string | undefined, description: values.description as string | undefined }, cliAuditContext('admin webhooks add'));
          io.out(`Added webhook endpoint ${endpoint.id} → ${endpoint.url} (${values.workspace ? `workspace ${values.workspace}` : 'the whole deployment'}; events: ${endpoint.events === '*' ? 'all' : endpoint.events.join(', ')}).`);
          io.out(`Signing secret: ${secret}  (shown once; verify webhook-signature with it, see docs/webhooks.md)`);
        } catch (err) {
          if (err instanceof WebhooksError) throw new CommandError(err.message);
          throw err;
        }
      });
    },
  },
  {
    path: ['admin', 'webhooks', 'list'],
    summary: 'List outbound webhook endpoints and their recent delivery counts.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const endpoints = await s.webhooks.endpoints.listEndpoints();
        const workspaces = new Map((await s.accounts.workspaces.listWorkspaces()).map((w) => [w.id, w.slug]));
        const rows = [];
        for (const e of endpoints) {
          const log = await s.webhooks.endpoints.listDeliveries(e.id, 200);
          const count = (st: string) => log.filter((d) => d.status === st).length;
          rows.push([e.id, e.url, e.workspaceId ? (workspaces.get(e.workspaceId) ?? e.workspaceId) : '(deployment)', e.events === '*' ? '*' : e.events.join(','), `${count('delivered')}/${count('pending')}/${count('failed')}`]);
        }
        io.out(table([['ID', 'URL', 'SCOPE', 'EVENTS', 'DELIVERED/PENDING/FAILED'], ...rows]));
      });
    },
  },
  {
    path: ['admin', 'webhooks', 'remove'],
    summary: 'Remove an outbound webhook endpoint (its pending deliveries go with it).',
    args: '<endpoint-id>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        if (!(await s.webhooks.endpoints.removeEndpoint(positionals[0], cliAuditContext('admin webhooks remove')))) throw new CommandError(`No webhook endpoint ${positionals[0]}`);
        io.out(`Removed webhook endpoint ${positionals[0]}.`);
      });
    },
  },
];
