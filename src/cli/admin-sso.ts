// `tollgate admin sso …`: sign-in connections (OpenID Connect providers), workspace auto-join rules and required
// connections. The client secret goes in and is never printed back.
import { readFileSync } from 'node:fs';
import { CommandError, UsageError, type Command } from './command.ts';
import { withServices } from './context.ts';
import { table } from './format.ts';
import { callbackUrl, ProviderError } from '../identity/index.ts';
import { cliAuditContext } from './audit-context.ts';

export const ssoCommands: Command[] = [
  {
    path: ['admin', 'sso', 'add'],
    summary: 'Add a sign-in connection (an OpenID Connect provider); prints the redirect URI to register there.',
    args: '<name> --issuer <url> --client-id <id> (--client-secret <secret> | --client-secret-file <path>) [--label <text>] [--scopes <list>] [--skip-discovery]',
    positionals: 1,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-secret-file': { type: 'string' },
      label: { type: 'string' },
      scopes: { type: 'string' },
      'skip-discovery': { type: 'boolean' },
    },
    async run({ values, positionals }, io) {
      const issuer = values.issuer as string | undefined;
      const clientId = values['client-id'] as string | undefined;
      if (!issuer || !clientId) throw new UsageError('--issuer and --client-id are required');
      let secret = values['client-secret'] as string | undefined;
      const file = values['client-secret-file'] as string | undefined;
      if ((secret === undefined) === (file === undefined)) throw new UsageError('give exactly one of --client-secret and --client-secret-file');
      if (file) {
        try {
          secret = readFileSync(file, 'utf8').trim();
        } catch (err) {
          throw new CommandError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        }
      }
      await withServices(io, async (s) => {
        if (!values['skip-discovery']) {
          try {
            // OpenID Connect Discovery 1.0: a provider that cannot be discovered now would fail every sign-in.
            await s.identity.providers.metadata(issuer.trim());
          } catch (err) {
            if (err instanceof ProviderError) throw new CommandError(`The issuer's discovery document could not be used: ${err.message} (--skip-discovery adds it anyway)`);
            throw err;
          }
        }
        const cn = await s.identity.connections.addConnection({ name: positionals[0], issuer, clientId, clientSecret: secret!, label: values.label as string | undefined, scopes: values.scopes as string | undefined }, cliAuditContext('admin sso add'));
        io.out(`Added sign-in connection ${cn.name} (${cn.label}) for ${cn.issuer}.`);
        io.out(`Register this redirect URI at the provider: ${callbackUrl(s.config.publicUrl, cn.name)}`);
      });
    },
  },
  {
    path: ['admin', 'sso', 'list'],
    summary: 'List sign-in connections (never their secrets).',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const list = await s.identity.connections.listConnections();
        io.out(table([['NAME', 'LABEL', 'ISSUER', 'CLIENT ID', 'REDIRECT URI'], ...list.map((c) => [c.name, c.label, c.issuer, c.clientId, callbackUrl(s.config.publicUrl, c.name)])]));
      });
    },
  },
  {
    path: ['admin', 'sso', 'remove'],
    summary: 'Remove a sign-in connection and the identities linked through it (the accounts stay).',
    args: '<name>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        await s.identity.connections.removeConnection(positionals[0], cliAuditContext('admin sso remove'));
        io.out(`Removed sign-in connection ${positionals[0]}.`);
      });
    },
  },
  {
    path: ['admin', 'sso', 'auto-join'],
    summary: 'People signing in by a connection join a workspace: by verified e-mail domain or by a claim value.',
    args: '<workspace> (--domain <domain> | --claim <name>=<value>) [--connection <name>] [--role member|admin]',
    positionals: 1,
    options: { domain: { type: 'string' }, claim: { type: 'string' }, connection: { type: 'string' }, role: { type: 'string' } },
    async run({ values, positionals }, io) {
      const claimPair = values.claim as string | undefined;
      const eq = claimPair?.indexOf('=') ?? -1;
      if (claimPair !== undefined && eq < 1) throw new UsageError('--claim takes name=value, e.g. groups=engineering');
      const role = (values.role as string | undefined) ?? 'member';
      if (role !== 'member' && role !== 'admin') throw new UsageError('--role is member or admin');
      await withServices(io, async (s) => {
        const ws = await s.accounts.workspaces.requireWorkspace(positionals[0]);
        let connectionId: string | null = null;
        if (values.connection) {
          const cn = await s.identity.connections.getConnection(values.connection as string);
          if (!cn) throw new CommandError(`No connection named "${values.connection}"`);
          connectionId = cn.id;
        }
        const rule = await s.identity.rules.addJoinRule({ workspaceId: ws.id, connectionId, domain: values.domain as string | undefined, claim: claimPair?.slice(0, eq), value: claimPair?.slice(eq + 1), role }, cliAuditContext('admin sso auto-join'));
        io.out(`Added auto-join rule ${rule.id}: ${rule.kind === 'domain' ? `verified e-mail at ${rule.value}` : `claim ${rule.claim} = ${rule.value}`} → ${ws.slug} as ${rule.role}.`);
      });
    },
  },
  {
    path: ['admin', 'sso', 'rules'],
    summary: 'List auto-join rules.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const [rules, connections, workspaces] = await Promise.all([s.identity.rules.listJoinRules(), s.identity.connections.listConnections(), s.accounts.workspaces.listWorkspaces()]);
        const cn = new Map(connections.map((c) => [c.id, c.name]));
        const ws = new Map(workspaces.map((w) => [w.id, w.slug]));
        io.out(table([['ID', 'WORKSPACE', 'WHEN', 'CONNECTION', 'ROLE'], ...rules.map((r) => [r.id, ws.get(r.workspaceId) ?? '?', r.kind === 'domain' ? `domain ${r.value}` : `${r.claim}=${r.value}`, r.connectionId ? (cn.get(r.connectionId) ?? '?') : 'any', r.role])]));
      });
    },
  },
  {
    path: ['admin', 'sso', 'remove-rule'],
    summary: 'Remove an auto-join rule.',
    args: '<id>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        await s.identity.rules.removeJoinRule(positionals[0], cliAuditContext('admin sso remove-rule'));
        io.out('Removed the auto-join rule.');
      });
    },
  },
  {
    path: ['admin', 'sso', 'require'],
    summary: 'Make a workspace accept only people signed in through a connection (`none` lifts it).',
    args: '<workspace> <connection|none>',
    positionals: 2,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const ws = await s.accounts.workspaces.requireWorkspace(positionals[0]);
        if (positionals[1] === 'none') {
          await s.identity.rules.requireConnection(ws.id, null, cliAuditContext('admin sso require'));
          io.out(`${ws.slug} accepts any sign-in.`);
          return;
        }
        const cn = await s.identity.connections.getConnection(positionals[1]);
        if (!cn) throw new CommandError(`No connection named "${positionals[1]}"`);
        await s.identity.rules.requireConnection(ws.id, cn.id, cliAuditContext('admin sso require'));
        io.out(`${ws.slug} now accepts only people signed in with ${cn.label}.`);
      });
    },
  },
];
