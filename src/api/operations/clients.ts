// OAuth clients a workspace owns (as if created on its dashboard): create (the secret is shown once), get, list,
// rotate the secret, delete (revoking its grants).
import { OAuthError, validateClientMetadata, type OAuthClient } from '../../oauth/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { pageByKey } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { isoOrNull, pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { clientView } from '../views.ts';
import type { Workspace } from '../../accounts/index.ts';

const WS = { workspace: WORKSPACE_SLUG_SCHEMA };
const CLIENT = { workspace: WORKSPACE_SLUG_SCHEMA, client_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,255}$' } };

export function clientOperations(deps: ApiDeps): Operation[] {
  const { oauth } = deps;
  /** The client, when this workspace owns it (another workspace's client is "not found", not "forbidden"). */
  async function ownedClient(ws: Workspace, clientId: string): Promise<OAuthClient> {
    const owner = await oauth.workspaceClients.ownerOf(clientId);
    const client = owner === ws.id ? await oauth.clients.getClient(clientId) : undefined;
    if (!client) throw new ApiProblem('not_found', `Workspace "${ws.slug}" has no OAuth client "${clientId.slice(0, 64)}"`);
    return client;
  }

  return [
    define({
      operationId: 'listClients',
      method: 'get',
      path: '/workspaces/{workspace}/clients',
      tag: 'OAuth clients',
      summary: 'The OAuth clients the workspace owns',
      access: 'read',
      params: WS,
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of clients', schema: pageOf('Client') },
      async handle({ workspace, query }) {
        const ids = (await oauth.workspaceClients.list(workspace.id)).sort();
        const page = pageByKey(ids, (id) => id, query.limit as number, query.cursor as string | undefined);
        const clients = (await Promise.all(page.items.map((id) => oauth.clients.getClient(id)))).filter((c): c is OAuthClient => Boolean(c));
        return { status: 200, body: { data: clients.map(clientView), next_cursor: page.next_cursor } };
      },
    }),
    define({
      operationId: 'createClient',
      method: 'post',
      path: '/workspaces/{workspace}/clients',
      tag: 'OAuth clients',
      summary: 'Create an OAuth client for the workspace; a confidential one gets a secret, shown in this answer only',
      access: 'write',
      params: WS,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['client_name', 'redirect_uris'],
        properties: {
          client_name: { type: 'string', minLength: 1, maxLength: 200 },
          redirect_uris: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 2000 } },
          token_endpoint_auth_method: { enum: ['none', 'client_secret_basic', 'client_secret_post'], default: 'client_secret_basic' },
        },
      },
      response: { status: 201, description: 'The client (with `client_secret` when confidential)', schema: ref('Client') },
      async handle({ workspace, body, key, audit }) {
        let validated;
        try {
          validated = validateClientMetadata(body);
        } catch (err) {
          if (err instanceof OAuthError) throw new ApiProblem('invalid_request', err.message);
          throw err;
        }
        // RFC 8252 / RFC 9700: each URI is judged; an API caller asked for every one, so any refusal refuses all.
        if (validated.refused.length) {
          throw new ApiProblem('invalid_request', `Redirect URIs not accepted: ${validated.refused.map((r) => `${r.uri.slice(0, 100)} (${r.reason})`).join('; ')}`.slice(0, 1000), {
            extra: { errors: validated.refused.map((r) => ({ pointer: `/redirect_uris/${(body.redirect_uris as string[]).indexOf(r.uri)}`, detail: r.reason })) },
          });
        }
        // One transaction: the client, its binding to the workspace, its client.created event and audit record.
        const { client, clientSecret } = await oauth.workspaceClients.create(validated.metadata, workspace.id, key.createdBy ?? `api-key:${key.id}`, audit);
        return { status: 201, body: { ...clientView(client), ...(clientSecret ? { client_secret: clientSecret } : {}) } };
      },
    }),
    define({
      operationId: 'getClient',
      method: 'get',
      path: '/workspaces/{workspace}/clients/{client_id}',
      tag: 'OAuth clients',
      summary: 'Get an OAuth client (never its secret)',
      access: 'read',
      params: CLIENT,
      response: { status: 200, description: 'The client', schema: ref('Client') },
      async handle({ workspace, params }) {
        return { status: 200, body: clientView(await ownedClient(workspace, params.client_id)) };
      },
    }),
    define({
      operationId: 'rotateClientSecret',
      method: 'post',
      path: '/workspaces/{workspace}/clients/{client_id}/secret',
      tag: 'OAuth clients',
      summary: 'Issue a new client secret, shown in this answer only; the previous one works for the overlap window',
      access: 'write',
      params: CLIENT,
      response: { status: 200, description: 'The client with its new secret', schema: ref('Client') },
      async handle({ workspace, params, audit }) {
        const client = await ownedClient(workspace, params.client_id);
        // client.secret_rotated is recorded with the rotation (never the secret).
        const rotated = await oauth.clients.rotateSecret(client.clientId, audit);
        if (!rotated) throw new ApiProblem('invalid_request', 'This client is public (token_endpoint_auth_method "none"): it has no secret to rotate');
        return { status: 200, body: { ...clientView(client), client_secret: rotated.clientSecret, previous_secret_valid_until: isoOrNull(rotated.previousValidUntil) } };
      },
    }),
    define({
      operationId: 'deleteClient',
      method: 'delete',
      path: '/workspaces/{workspace}/clients/{client_id}',
      tag: 'OAuth clients',
      summary: 'Delete an OAuth client; every grant it holds is revoked',
      access: 'write',
      params: CLIENT,
      response: { status: 200, description: 'The client as it was', schema: ref('Client') },
      async handle({ workspace, params, audit }) {
        const client = await ownedClient(workspace, params.client_id);
        // The OAuth module deletes the client and revokes its grants in one transaction (announced on commit), with
        // their grant.revoked events and the client.deleted audit record.
        await oauth.clients.deleteClient(client.clientId, audit);
        await oauth.workspaceClients.forget(client.clientId);
        return { status: 200, body: clientView(client) };
      },
    }),
  ];
}
