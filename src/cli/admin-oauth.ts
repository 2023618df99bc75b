// `tollgate admin client …`, `tollgate admin idp …` and `tollgate admin keys rotate`: pre-registered OAuth clients
// (machine clients among them), trusted enterprise identity providers (ID-JAG), and signing keys.
import { readFileSync } from 'node:fs';
import { CommandError, UsageError, type Command } from './command.ts';
import { withServices } from './context.ts';
import { table } from './format.ts';
import { validateClientMetadata } from '../oauth/client-metadata.ts';
import { OAuthError } from '../oauth/errors.ts';
import { cliAuditContext } from './audit-context.ts';

/** Reads a JSON file named on the command line (a JWK Set), or says why it cannot. */
function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CommandError(`Cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CommandError(`${what} ${file} is not JSON`);
  }
}

const asCommandError = (err: unknown): never => {
  if (err instanceof OAuthError) throw new CommandError(err.message);
  throw err;
};

export const oauthCommands: Command[] = [
  {
    path: ['admin', 'client', 'create'],
    summary: 'Pre-register an OAuth client (confidential unless --public); its secret is printed once.',
    args: '<name> --redirect-uri <uri> [--redirect-uri <uri>…] [--public] [--auth-method client_secret_basic|client_secret_post]',
    positionals: 1,
    options: { 'redirect-uri': { type: 'string', multiple: true }, public: { type: 'boolean' }, 'auth-method': { type: 'string' } },
    async run({ values, positionals }, io) {
      const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
      if (redirectUris.length === 0) throw new UsageError('at least one --redirect-uri is required');
      const method = values.public ? 'none' : ((values['auth-method'] as string | undefined) ?? 'client_secret_basic');
      if (values.public && values['auth-method']) throw new UsageError('--public and --auth-method exclude each other');
      let validated;
      try {
        validated = validateClientMetadata({ client_name: positionals[0], redirect_uris: redirectUris, token_endpoint_auth_method: method });
      } catch (err) {
        if (err instanceof OAuthError) throw new CommandError(err.message);
        throw err;
      }
      for (const r of validated.refused) io.err(`Refused redirect URI ${r.uri}: ${r.reason}`);
      await withServices(io, async (s) => {
        const { client, clientSecret } = await s.oauth.clients.createClient(validated.metadata, 'static', undefined, cliAuditContext('admin client create'));
        await s.oauth.clientEvents.record({ clientId: client.clientId, kind: 'registered', detail: 'created by an operator (tollgate admin client create)' });
        io.out(`Created ${client.confidential ? 'confidential' : 'public'} client "${client.name}".`);
        io.out(`client_id: ${client.clientId}`);
        if (clientSecret) io.out(`client_secret: ${clientSecret}  (shown once; rotate with \`tollgate admin client rotate-secret ${client.clientId}\`)`);
        io.out(`token endpoint authentication: ${client.tokenEndpointAuthMethod}`);
        io.out(`redirect URIs: ${client.redirectUris.join(', ')}`);
      });
    },
  },
  {
    path: ['admin', 'client', 'list'],
    summary: 'List registered OAuth clients (self-registered and pre-registered).',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const clients = await s.oauth.directory.listClients();
        io.out(
          table([
            ['CLIENT_ID', 'NAME', 'KIND', 'AUTH', 'CREATED', 'FIRST GRANT'],
            ...clients.map((c) => [c.clientId, c.name.slice(0, 40), c.kind === 'dynamic' ? 'self-registered' : 'pre-registered', c.tokenEndpointAuthMethod, new Date(c.createdAt).toISOString(), c.firstGrantAt ? new Date(c.firstGrantAt).toISOString() : '-']),
          ]),
        );
      });
    },
  },
  {
    path: ['admin', 'client', 'rotate-secret'],
    summary: 'Issue a new client secret; the previous one keeps working for the overlap window.',
    args: '<client_id>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const client = await s.oauth.clients.getClient(positionals[0]);
        if (!client) throw new CommandError(`No client with the id ${positionals[0]}`);
        const rotated = await s.oauth.directory.rotateClientSecret(client.clientId, cliAuditContext('admin client rotate-secret'));
        if (!rotated) throw new CommandError(`Client ${client.clientId} is a public client: it has no secret`);
        io.out(`client_secret: ${rotated.clientSecret}  (shown once)`);
        io.out(rotated.previousValidUntil ? `The previous secret keeps working until ${new Date(rotated.previousValidUntil).toISOString()}.` : 'The previous secret no longer works.');
      });
    },
  },
  {
    path: ['admin', 'client', 'delete'],
    summary: 'Delete an OAuth client and revoke every grant it holds.',
    args: '<client_id>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        if (!(await s.oauth.directory.deleteClient(positionals[0], cliAuditContext('admin client delete')))) throw new CommandError(`No client with the id ${positionals[0]}`);
        io.out(`Deleted client ${positionals[0]}; its grants are revoked.`);
      });
    },
  },
  {
    path: ['admin', 'client', 'create-machine'],
    summary: 'Create a machine client (client_credentials) bound to one workspace, acting as the owner or admin named.',
    args: '<name> --workspace <slug> --admin <email> [--jwks-file <path>] [--scope "mcp:read mcp:write"]',
    positionals: 1,
    options: { workspace: { type: 'string' }, admin: { type: 'string' }, 'jwks-file': { type: 'string' }, scope: { type: 'string' } },
    async run({ values, positionals }, io) {
      const slug = values.workspace as string | undefined;
      const email = values.admin as string | undefined;
      if (!slug) throw new UsageError('--workspace is required: a machine client is bound to one workspace');
      if (!email) throw new UsageError('--admin is required: the workspace owner or admin the client acts for');
      const jwksFile = values['jwks-file'] as string | undefined;
      const jwks = jwksFile === undefined ? undefined : readJsonFile(jwksFile, 'JWK Set');
      await withServices(io, async (s) => {
        const workspace = await s.accounts.workspaces.getWorkspaceBySlug(slug);
        if (!workspace) throw new CommandError(`No workspace ${slug}`);
        const user = await s.accounts.users.findUserByEmail(email);
        const role = user && (await s.accounts.workspaces.getRole(workspace.id, user.id));
        if (!user || (role !== 'owner' && role !== 'admin')) throw new CommandError(`${email} is not an owner or admin of ${slug}`);
        const { client, clientSecret } = await s.oauth.machineClients
          .createMachineClient({ name: positionals[0], workspaceId: workspace.id, boundBy: user.id, authMethod: jwks === undefined ? 'client_secret_basic' : 'private_key_jwt', jwks, scope: values.scope as string | undefined }, cliAuditContext('admin client create-machine'))
          .catch(asCommandError);
        await s.oauth.clientEvents.record({ clientId: client.clientId, workspaceId: workspace.id, kind: 'registered', detail: `machine client bound to ${slug} by ${user.email} (tollgate admin client create-machine)` });
        io.out(`Created machine client "${client.name}" for workspace ${slug}, acting as ${user.email}.`);
        io.out(`client_id: ${client.clientId}`);
        if (clientSecret) io.out(`client_secret: ${clientSecret}  (shown once; rotate with \`tollgate admin client rotate-secret ${client.clientId}\`)`);
        io.out(`token endpoint authentication: ${client.tokenEndpointAuthMethod}`);
        io.out(`grant: client_credentials, scope ${client.scope}, resource ${s.config.publicUrl}/${slug}/mcp`);
      });
    },
  },
  {
    path: ['admin', 'idp', 'add'],
    summary: 'Trust an enterprise identity provider\'s identity assertions (ID-JAG) for the named clients.',
    args: '<name> --issuer <url> (--jwks-uri <url> | --jwks-file <path>) --client <client_id> [--client <client_id>…]',
    positionals: 1,
    options: { issuer: { type: 'string' }, 'jwks-uri': { type: 'string' }, 'jwks-file': { type: 'string' }, client: { type: 'string', multiple: true } },
    async run({ values, positionals }, io) {
      const issuer = values.issuer as string | undefined;
      if (!issuer) throw new UsageError('--issuer is required');
      if ((values['jwks-uri'] === undefined) === (values['jwks-file'] === undefined)) throw new UsageError('give one of --jwks-uri and --jwks-file');
      const clients = (values.client as string[] | undefined) ?? [];
      if (!clients.length) throw new UsageError('at least one --client is required: the clients that may present its assertions');
      const jwks = values['jwks-file'] === undefined ? undefined : readJsonFile(values['jwks-file'] as string, 'JWK Set');
      await withServices(io, async (s) => {
        for (const id of clients) if (!(await s.oauth.clients.getClient(id))) throw new CommandError(`No client with the id ${id}`);
        // Audited in the change's own transaction (never its keys).
        const idp = await s.oauth.trustedIdps.addIdp({ name: positionals[0], issuer, jwksUri: values['jwks-uri'] as string | undefined, jwks, allowedClientIds: clients }, cliAuditContext('admin idp add')).catch(asCommandError);
        io.out(`Trusted identity provider ${idp.name} (${idp.issuer}) for ${idp.allowedClientIds.join(', ')}.`);
        io.out(`Its assertions must have aud ${s.config.publicUrl}; subjects map to accounts by (iss, sub), then by verified e-mail.`);
      });
    },
  },
  {
    path: ['admin', 'idp', 'list'],
    summary: 'List the trusted enterprise identity providers.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const idps = await s.oauth.trustedIdps.listIdps();
        io.out(table([['NAME', 'ISSUER', 'KEYS', 'CLIENTS'], ...idps.map((i) => [i.name, i.issuer, i.jwksUri ?? `inline (${i.jwks?.keys.length ?? 0})`, i.allowedClientIds.join(',')])]));
      });
    },
  },
  {
    path: ['admin', 'idp', 'remove'],
    summary: 'Stop trusting an identity provider (and forget its subjects\' account links).',
    args: '<name>',
    positionals: 1,
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        if (!(await s.oauth.trustedIdps.removeIdp(positionals[0], cliAuditContext('admin idp remove')))) throw new CommandError(`No trusted identity provider named ${positionals[0]}`);
        io.out(`Removed trusted identity provider ${positionals[0]}.`);
      });
    },
  },
  {
    path: ['admin', 'keys', 'rotate'],
    summary: 'Publish new token signing keys; old keys stay in JWKS until their tokens have expired.',
    async run(_i, io) {
      await withServices(io, async (s) => {
        const { kid, retired } = await s.oauth.keys.rotate();
        // Key rotation writes several rows outside one transaction; its record follows it (public key ids only).
        await s.audit.record({ ...cliAuditContext('admin keys rotate'), action: 'signing_keys.rotated', target: { type: 'signing_key', id: kid }, after: { retired } });
        io.out(`New signing key ${kid} is active.`);
        if (retired.length) io.out(`Retired ${retired.length} key(s); they stay in JWKS for ${s.config.accessTokenTtlSeconds + 60} s so live tokens keep verifying.`);
      });
    },
  },
];
