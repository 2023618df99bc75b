// The client registry: self-registered (RFC 7591) and operator-created clients. Client ID metadata documents are
// resolved by cimd.ts and never stored here. Secrets are stored as SHA-256 hashes and shown once.
import type { Kysely } from 'kysely';
import { prepareQuery } from '../store/prepared.ts';
import type { Store } from '../store/store.ts';
import { newClientId, randomToken, safeEqual, sha256Hex } from '../util/ids.ts';
import type { ClientMetadata, TokenEndpointAuthMethod } from './client-metadata.ts';
import type { ClientKind, ClientsTable, OAuthTables } from './tables.ts';
import { revokeGrants } from './grants.ts';
import { enqueueEvent } from '../webhooks/index.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export interface OAuthClient {
  clientId: string;
  /** `dynamic`: self-registered; `static`: created by an operator; `cimd`: a client ID metadata document. */
  kind: ClientKind | 'cimd';
  name: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  applicationType: 'native' | 'web';
  grantTypes: string[];
  scope: string | null;
  extra: Record<string, unknown>;
  createdAt: number;
  firstGrantAt: number | null;
  /** True when the client authenticates with a secret at the token endpoint. */
  confidential: boolean;
}

/**
 * `tollgate doctor` ends the name of every client it registers with this (src/client/doctor/clients.ts). It deletes
 * them itself by RFC 7592; any left behind (an interrupted run) never complete a grant and are collected early.
 */
export const DIAGNOSTIC_CLIENT_MARK = '(tollgate doctor)';
const DIAGNOSTIC_CLIENT_TTL_S = 900;

const parseJson = <T,>(text: string, fallback: T): T => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

const toClient = (r: ClientsTable): OAuthClient => ({
  clientId: r.client_id,
  kind: r.kind,
  name: r.client_name,
  redirectUris: parseJson<string[]>(r.redirect_uris, []),
  tokenEndpointAuthMethod: r.token_endpoint_auth_method as TokenEndpointAuthMethod,
  applicationType: r.application_type === 'web' ? 'web' : 'native',
  grantTypes: parseJson<string[]>(r.grant_types, []),
  scope: r.scope,
  extra: parseJson<Record<string, unknown>>(r.metadata, {}),
  createdAt: r.created_at,
  firstGrantAt: r.first_grant_at,
  confidential: r.token_endpoint_auth_method !== 'none',
});

/** The registered metadata as RFC 7591 §3.2.1 returns it (and `GET` on the client would). */
export function clientMetadataResponse(client: OAuthClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    application_type: client.applicationType,
    ...(client.scope ? { scope: client.scope } : {}),
    ...client.extra,
  };
}

export function clientsService(store: Store, options: { secretRotationOverlapSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  // Compiled once: every token, revocation and introspection request looks its client up.
  const clientById = prepareQuery((slot) => db.selectFrom('oauth_clients').selectAll().where('client_id', '=', slot(0) as string));

  return {
    /**
     * Creates a client; returns its secret (plain, once) when it is confidential, and for a self-registered client
     * the RFC 7592 registration access token it can delete itself with (plain, once; stored hashed).
     */
    async createClient(
      metadata: ClientMetadata,
      kind: ClientKind,
      trx: Kysely<OAuthTables> = db,
      audit?: AuditContext,
      /** `workspaceId`: the workspace the client is created for (its dashboard, the API, a bound machine client):
       *  its `client.created` event and audit record carry it, so that workspace's webhook endpoints receive it. */
      options: { workspaceId?: string | null } = {},
    ): Promise<{ client: OAuthClient; clientSecret?: string; registrationAccessToken?: string }> {
      // A private_key_jwt client proves itself with its own keys (RFC 7523 §2.2): it has no secret.
      const clientSecret = metadata.tokenEndpointAuthMethod === 'none' || metadata.tokenEndpointAuthMethod === 'private_key_jwt' ? undefined : randomToken(32);
      const registrationAccessToken = kind === 'dynamic' ? randomToken(32) : undefined;
      const row: ClientsTable = {
        client_id: newClientId(),
        kind,
        client_name: metadata.clientName,
        redirect_uris: JSON.stringify(metadata.redirectUris),
        token_endpoint_auth_method: metadata.tokenEndpointAuthMethod,
        application_type: metadata.applicationType,
        grant_types: JSON.stringify(metadata.grantTypes),
        scope: metadata.scope,
        metadata: JSON.stringify(metadata.extra),
        secret_hash: clientSecret ? sha256Hex(clientSecret) : null,
        previous_secret_hash: null,
        previous_secret_expires_at: null,
        created_at: Date.now(),
        first_grant_at: null,
        registration_token_hash: registrationAccessToken ? sha256Hex(registrationAccessToken) : null,
      };
      // The client, its event and its audit record commit together: in the caller's transaction when given one.
      const write = async (t: Kysely<OAuthTables>): Promise<void> => {
        await t.insertInto('oauth_clients').values(row).execute();
        const workspaceId = options.workspaceId ?? null;
        await enqueueEvent(t, { type: 'client.created', workspaceId, data: { client_id: row.client_id, kind, client_name: row.client_name, ...(workspaceId ? { workspace_id: workspaceId } : {}) } });
        if (audit) {
          await recordAudit(t, { ...audit, action: 'client.created', target: { type: 'client', id: row.client_id }, workspaceId, after: { client_name: row.client_name, kind, redirect_uris: metadata.redirectUris, token_endpoint_auth_method: row.token_endpoint_auth_method } });
        }
      };
      if (trx.isTransaction) await write(trx);
      else await trx.transaction().execute(write);
      return { client: toClient(row), clientSecret, registrationAccessToken };
    },

    async getClient(clientId: string): Promise<OAuthClient | undefined> {
      // A NUL byte can be in no client id, and PostgreSQL refuses it in a query.
      if (!clientId || clientId.length > 255 || clientId.includes('\u0000')) return undefined;
      const { rows } = await db.executeQuery(clientById([clientId]));
      return rows.length ? toClient(rows[0]) : undefined;
    },

    /** Registered clients, newest first (the `limit` newest when given). */
    async listClients(options: { kind?: ClientKind; limit?: number } = {}): Promise<OAuthClient[]> {
      let q = db.selectFrom('oauth_clients').selectAll();
      if (options.kind) q = q.where('kind', '=', options.kind);
      q = q.orderBy('created_at', 'desc').orderBy('client_id');
      if (options.limit !== undefined) q = q.limit(options.limit);
      return (await q.execute()).map(toClient);
    },

    async countClients(options: { kind?: ClientKind } = {}): Promise<number> {
      let q = db.selectFrom('oauth_clients').select((eb) => eb.fn.countAll<number>().as('n'));
      if (options.kind) q = q.where('kind', '=', options.kind);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },

    /** Deletes a client and revokes every grant it holds; true when it existed. */
    async deleteClient(clientId: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('oauth_clients').where('client_id', '=', clientId).executeTakeFirst();
        if (!Number(r.numDeletedRows)) return false;
        const revoked = await revokeGrants(trx, store.dialect, { clientId }, 'client deleted');
        if (audit) await recordAudit(trx, { ...audit, action: 'client.deleted', target: { type: 'client', id: clientId }, after: { grants_revoked: revoked } });
        return true;
      });
    },

    /**
     * Issues a new secret. The previous one keeps working for the overlap window, so deployments can switch
     * without downtime. Returns undefined for unknown or public clients.
     */
    async rotateSecret(clientId: string, audit?: AuditContext): Promise<{ clientSecret: string; previousValidUntil: number | null } | undefined> {
      const client = await db.selectFrom('oauth_clients').select(['secret_hash', 'token_endpoint_auth_method']).where('client_id', '=', clientId).executeTakeFirst();
      if (!client || client.token_endpoint_auth_method === 'none' || client.token_endpoint_auth_method === 'private_key_jwt') return undefined;
      const clientSecret = randomToken(32);
      const overlap = options.secretRotationOverlapSeconds * 1000;
      const previousValidUntil = overlap > 0 && client.secret_hash ? Date.now() + overlap : null;
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('oauth_clients')
          .set({ secret_hash: sha256Hex(clientSecret), previous_secret_hash: previousValidUntil ? client.secret_hash : null, previous_secret_expires_at: previousValidUntil })
          .where('client_id', '=', clientId)
          .execute();
        // That the secret changed and until when the old one works; never either secret.
        if (audit) await recordAudit(trx, { ...audit, action: 'client.secret_rotated', target: { type: 'client', id: clientId }, after: { previous_valid_until: previousValidUntil } });
      });
      return { clientSecret, previousValidUntil };
    },

    /** Constant-time check against the current secret and, within the overlap window, the previous one. */
    async verifySecret(clientId: string, secret: string): Promise<boolean> {
      if (!secret || secret.length > 512) return false;
      const r = await db.selectFrom('oauth_clients').select(['secret_hash', 'previous_secret_hash', 'previous_secret_expires_at']).where('client_id', '=', clientId).executeTakeFirst();
      if (!r?.secret_hash) return false;
      const presented = sha256Hex(secret);
      const current = safeEqual(presented, r.secret_hash);
      const previous = !!r.previous_secret_hash && (r.previous_secret_expires_at ?? 0) > Date.now() && safeEqual(presented, r.previous_secret_hash);
      return current || previous;
    },

    /** Constant-time check of a registration access token (RFC 7592 §3) against the one issued to this client. */
    async verifyRegistrationAccessToken(clientId: string, token: string): Promise<boolean> {
      if (!token || token.length > 512 || !clientId || clientId.length > 255 || clientId.includes('\u0000')) return false;
      const r = await db.selectFrom('oauth_clients').select('registration_token_hash').where('client_id', '=', clientId).executeTakeFirst();
      return !!r?.registration_token_hash && safeEqual(sha256Hex(token), r.registration_token_hash);
    },

    /** Marks that the client completed a grant (so it is never garbage-collected as unused). */
    async markGranted(clientId: string, trx: Kysely<OAuthTables> = db): Promise<void> {
      await trx.updateTable('oauth_clients').set({ first_grant_at: Date.now() }).where('client_id', '=', clientId).where('first_grant_at', 'is', null).execute();
    },

    /**
     * Deletes self-registered clients that never completed a grant within `ttlSeconds` of registering; those named as
     * `tollgate doctor` registrations go first, after at most DIAGNOSTIC_CLIENT_TTL_S.
     */
    async deleteUnusedDynamicClients(ttlSeconds: number): Promise<number> {
      const now = Date.now();
      const r = await db
        .deleteFrom('oauth_clients')
        .where('kind', '=', 'dynamic')
        .where('first_grant_at', 'is', null)
        .where((eb) =>
          eb.or([
            eb('created_at', '<', now - ttlSeconds * 1000),
            eb.and([eb('client_name', 'like', `%${DIAGNOSTIC_CLIENT_MARK}`), eb('created_at', '<', now - Math.min(ttlSeconds, DIAGNOSTIC_CLIENT_TTL_S) * 1000)]),
          ]),
        )
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type ClientsService = ReturnType<typeof clientsService>;
