// Machine clients: servers that call MCP tools with no person present (RFC 6749 §4.4, client_credentials). An
// operator creates one bound to one workspace, acting with the membership of the workspace owner or admin who bound
// it; it authenticates with a client secret (client_secret_basic) or with its own keys (private_key_jwt, RFC 7523).
import type { Store } from '../store/store.ts';
import type { ClientsService, OAuthClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import { parseJwks } from './jwks.ts';
import { SUPPORTED_SCOPES } from './scopes.ts';
import type { OAuthTables } from './tables.ts';
import type { WorkspaceClients } from './workspace-clients.ts';
import type { AuditContext } from '../audit/index.ts';

export const CLIENT_CREDENTIALS = 'client_credentials';
export type MachineAuthMethod = 'client_secret_basic' | 'private_key_jwt';

/** What a machine client may be granted: MCP access, never sign-in scopes (there is no person to sign in). */
export const MACHINE_SCOPES = ['mcp:read', 'mcp:write'] as const;

export interface MachineClientInput {
  name: string;
  workspaceId: string;
  /** The workspace owner or admin who binds it: its tokens act with this user's membership. */
  boundBy: string;
  authMethod: MachineAuthMethod;
  /** The public JWK Set of a private_key_jwt client. */
  jwks?: unknown;
  /** Space-separated scopes it may ask for; default every machine scope. */
  scope?: string;
}

export const isMachineClient = (client: OAuthClient): boolean => client.grantTypes.includes(CLIENT_CREDENTIALS);

export function machineClientsService(store: Store, clients: ClientsService, workspaceClients: WorkspaceClients) {
  return {
    /** Creates the client and its workspace binding together; the secret (client_secret_basic) is returned once. */
    async createMachineClient(input: MachineClientInput, audit?: AuditContext): Promise<{ client: OAuthClient; clientSecret?: string }> {
      const name = input.name.replace(/\s+/g, ' ').trim().slice(0, 200);
      if (!name) throw new OAuthError('invalid_client_metadata', 'A machine client needs a name');
      let extra: Record<string, unknown> = {};
      if (input.authMethod === 'private_key_jwt') {
        try {
          extra = { jwks: parseJwks(input.jwks) };
        } catch (err) {
          throw new OAuthError('invalid_client_metadata', `jwks: ${(err as Error).message}`);
        }
      } else if (input.jwks !== undefined) throw new OAuthError('invalid_client_metadata', 'A JWK Set is only for private_key_jwt clients');
      const asked = input.scope === undefined ? [...MACHINE_SCOPES] : input.scope.trim().split(/\s+/).filter(Boolean);
      const unknown = asked.filter((s) => !(MACHINE_SCOPES as readonly string[]).includes(s));
      if (unknown.length) throw new OAuthError('invalid_client_metadata', `A machine client may hold only ${MACHINE_SCOPES.join(' ')} (not ${unknown.join(' ')})`);
      if (!asked.length || !asked.every((s) => (SUPPORTED_SCOPES as readonly string[]).includes(s))) throw new OAuthError('invalid_client_metadata', 'scope is empty');
      return store.typed<OAuthTables>().transaction().execute(async (trx) => {
        const created = await clients.createClient(
          { clientName: name, redirectUris: [], tokenEndpointAuthMethod: input.authMethod, applicationType: 'web', grantTypes: [CLIENT_CREDENTIALS], scope: asked.join(' '), extra },
          'static',
          trx,
          audit,
          { workspaceId: input.workspaceId },
        );
        await workspaceClients.record(created.client.clientId, input.workspaceId, input.boundBy, trx);
        return { client: created.client, clientSecret: created.clientSecret };
      });
    },
  };
}

export type MachineClients = ReturnType<typeof machineClientsService>;
