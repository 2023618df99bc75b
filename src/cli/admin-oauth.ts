// `tollgate admin client …` and `tollgate admin keys rotate`: pre-registered OAuth clients and signing keys.
import { CommandError, UsageError, type Command } from './command.ts';
import { withServices } from './context.ts';
import { table } from './format.ts';
import { validateClientMetadata } from '../oauth/client-metadata.ts';
import { OAuthError } from '../oauth/errors.ts';
import { cliAuditContext } from './audit-context.ts';


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
        const { client, clientSecret } = await s.oauth.clients.createClient(validated.metadata, 'static', cliAuditContext('admin client create'));
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
