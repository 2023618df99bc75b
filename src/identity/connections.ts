// Sign-in connections: the OpenID Connect providers an operator added. The client secret is sealed at rest with a
// key derived from TOLLGATE_SECRET (like the token signing keys) and only ever opened to call the token endpoint.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { newId } from '../util/ids.ts';
import { isUniqueViolation } from '../accounts/index.ts';
import { IdentityError } from './errors.ts';
import type { IdentityConnectionsTable, IdentityTables } from './tables.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export interface Connection {
  id: string;
  name: string;
  label: string;
  issuer: string;
  clientId: string;
  scopes: string;
  createdAt: number;
}

export const CONNECTION_NAME_PATTERN = '[a-z0-9][a-z0-9-]{0,38}[a-z0-9]';
const NAME_RE = new RegExp(`^${CONNECTION_NAME_PATTERN}$`);
export const DEFAULT_SCOPES = 'openid email profile';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const toConnection = (r: IdentityConnectionsTable): Connection => ({ id: r.id, name: r.name, label: r.label, issuer: r.issuer, clientId: r.client_id, scopes: r.scopes, createdAt: r.created_at });

/** The issuer as the provider writes it: an https URL (http only when allowed) without query or fragment. */
export function validateIssuer(issuer: string, allowHttp: boolean): string {
  const u = URL.parse(issuer.trim());
  // Discovery §2: the issuer is a case-sensitive https URL with no query or fragment.
  if (!u || (u.protocol !== 'https:' && !(allowHttp && u.protocol === 'http:')) || u.search || u.hash || u.username || u.password || issuer.length > 2048) {
    throw new IdentityError('invalid_issuer', `"${issuer.slice(0, 100)}" is not an issuer URL: use the provider's https issuer, without query or fragment`);
  }
  return issuer.trim();
}

export function connectionsService(store: Store, box: Pick<SecretBox, 'seal' | 'open'>, options: { allowHttp: boolean }) {
  const db: Kysely<IdentityTables> = store.typed<IdentityTables>();
  return {
    async addConnection(input: { name: string; issuer: string; clientId: string; clientSecret: string; label?: string; scopes?: string }, audit?: AuditContext): Promise<Connection> {
      if (!NAME_RE.test(input.name) || input.name.includes('--')) throw new IdentityError('invalid_name', `"${input.name.slice(0, 60)}" is not a valid connection name: use 2–40 lower-case letters, digits and dashes`);
      const issuer = validateIssuer(input.issuer, options.allowHttp);
      const clientId = input.clientId.trim();
      if (!clientId || clientId.length > 512 || CONTROL.test(clientId)) throw new IdentityError('invalid_input', 'The client id is missing or not plain text');
      if (!input.clientSecret || input.clientSecret.length > 4096 || CONTROL.test(input.clientSecret)) throw new IdentityError('invalid_input', 'The client secret is missing or not plain text');
      const label = (input.label ?? input.name).trim().slice(0, 100);
      if (!label || CONTROL.test(label)) throw new IdentityError('invalid_input', 'The label must be plain text');
      const scopes = [...new Set(['openid', ...(input.scopes ?? DEFAULT_SCOPES).split(/\s+/).filter(Boolean)])].join(' ');
      if (scopes.length > 512 || CONTROL.test(scopes)) throw new IdentityError('invalid_input', 'The scopes are not plain text');
      const row: IdentityConnectionsTable = {
        id: newId(),
        name: input.name,
        label,
        issuer,
        client_id: clientId,
        client_secret_sealed: box.seal(input.clientSecret),
        scopes,
        created_at: Date.now(),
      };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('identity_connections').values(row).execute();
          // The client secret is never recorded.
          if (audit) await recordAudit(trx as never, { ...audit, action: 'sso.connection_added', target: { type: 'sso_connection', id: row.name }, after: { issuer, client_id: clientId, label, scopes } });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new IdentityError('name_taken', `A connection named "${input.name}" already exists`);
        throw err;
      }
      return toConnection(row);
    },

    async listConnections(): Promise<Connection[]> {
      return (await db.selectFrom('identity_connections').selectAll().orderBy('name').execute()).map(toConnection);
    },

    async getConnection(name: string): Promise<Connection | undefined> {
      if (!NAME_RE.test(name)) return undefined;
      const row = await db.selectFrom('identity_connections').selectAll().where('name', '=', name).executeTakeFirst();
      return row && toConnection(row);
    },

    async getConnectionById(id: string): Promise<Connection | undefined> {
      const row = await db.selectFrom('identity_connections').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toConnection(row);
    },

    /** The client secret in the clear, for the token request only. */
    async clientSecret(id: string): Promise<string> {
      const row = await db.selectFrom('identity_connections').select('client_secret_sealed').where('id', '=', id).executeTakeFirstOrThrow();
      return box.open(row.client_secret_sealed);
    },

    /** Removes the connection, its linked identities, rules and requirements (the accounts stay). */
    async removeConnection(name: string, audit?: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('identity_connections').where('name', '=', name).executeTakeFirst();
        if (!r.numDeletedRows) throw new IdentityError('not_found', `No connection named "${name.slice(0, 60)}"`);
        if (audit) await recordAudit(trx as never, { ...audit, action: 'sso.connection_removed', target: { type: 'sso_connection', id: name } });
      });
    },
  };
}

export type ConnectionsService = ReturnType<typeof connectionsService>;
