// The OAuth module's public face: other modules call these, never the tables.
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { SecretBox } from '../util/crypto-box.ts';
import { accessTokensService } from './access-tokens.ts';
import { grantsService } from './grants.ts';
import { signingKeysService } from './keys.ts';
import { clientEventsService } from './client-events.ts';
import { clientsService, type OAuthClient } from './clients.ts';
import { cimdService, looksLikeCimdUrl } from './cimd.ts';
import { codesService } from './codes.ts';
import { refreshTokensService } from './refresh-tokens.ts';
import { throttleService } from './throttle.ts';
import { directoryService } from './directory.ts';
import { workspaceClientsService } from './workspace-clients.ts';
import { usedJtisService } from './used-jtis.ts';
import { machineClientsService } from './machine-clients.ts';
import { trustedIdpsService } from './trusted-idps.ts';
import { deviceCodesService } from './device-codes.ts';
import { endpointUrl, rootIssuer, type ResourceServers } from './issuers.ts';

export type { Grant } from './grants.ts';
export type { VerifiedAccessToken, VerifyResult } from './access-tokens.ts';
export type { OAuthClient } from './clients.ts';
export type { ClientEvent, ClientEventKind } from './client-events.ts';
export type { WorkspaceGrant } from './directory.ts';
export type { ClientKind } from './tables.ts';
export type { WorkspaceClients } from './workspace-clients.ts';
export type { TrustedIdp } from './trusted-idps.ts';
export { isMachineClient } from './machine-clients.ts';
export { formatUserCode, normalizeUserCode } from './device-codes.ts';
export { OAuthError } from './errors.ts';
export { validateClientMetadata } from './client-metadata.ts';
export { clientIp } from './client-ip.ts';
export { isLoopbackRedirect, redirectDisplay } from './redirect-uris.ts';
export { serverResourceUrl, sharedResourceUrl, workspaceResourceUrl } from './resource.ts';
export { describeScope } from './scopes.ts';
export { fetchJsonDocument, SafeFetchError, type SafeFetchOptions, type SafeFetchRequest } from './safe-fetch.ts';
export { decodeJwt, publicKeyFromJwk, verifyEs256, verifyRs256, type DecodedJwt } from './jwt.ts';
export {
  authorizationIssuer,
  decideAuthorization,
  nextAuthorizationStep,
  openAuthorizationRequest,
  sealAuthorizationRequest,
  validateAuthorizationRequest,
  type AuthorizationRequest,
  type AuthorizationStep,
  type AuthorizeDeps,
  type WorkspaceLookup,
} from './authorize.ts';

/** Housekeeping runs at most this often per process, piggy-backed on registrations and token requests. */
const MAINTENANCE_INTERVAL_MS = 60_000;

export function oauthModule(store: Store, config: Config, secret: string, logger?: Logger) {
  const keys = signingKeysService(store, new SecretBox(secret, 'signing-keys'), config);
  const grants = grantsService(store, { cacheMaxAgeMs: config.grantCacheMaxAgeMs });
  const accessTokens = accessTokensService(config, keys, grants);
  const clientEvents = clientEventsService(store);
  const clients = clientsService(store, config);
  const cimd = cimdService(store, config, logger);
  const codes = codesService(store, config);
  const refreshTokens = refreshTokensService(store, secret, config);
  const throttle = throttleService(store);
  const usedJtis = usedJtisService(store);
  const deviceCodes = deviceCodesService(store);
  const workspaceClients = workspaceClientsService(store, clients);
  // None until the gateway says which it serves: a token for `/<ws>/mcp/<name>` needs an upstream by that name.
  let servedServers: ResourceServers = { has: () => false };
  const resourceServers = { has: (name: string) => servedServers.has(name), serve: (servers: ResourceServers) => void (servedServers = servers) };
  const root = rootIssuer(config);

  /** A client by id: a registered one, or the client a metadata document URL describes (may fetch it). */
  async function resolveClient(clientId: string): Promise<OAuthClient | undefined> {
    if (looksLikeCimdUrl(clientId, config.cimdAllowHttp)) return cimd.resolve(clientId);
    return clients.getClient(clientId);
  }

  let lastMaintenance = 0;
  /** Deletes what is no longer needed: unused self-registered clients, old codes, tokens, counters, documents. */
  async function runMaintenance(force = false): Promise<void> {
    if (!force && Date.now() - lastMaintenance < MAINTENANCE_INTERVAL_MS) return;
    lastMaintenance = Date.now();
    try {
      const removed = await clients.deleteUnusedDynamicClients(config.unusedClientTtlSeconds);
      if (removed) logger?.info({ removed }, 'removed self-registered clients that never completed a grant');
      await codes.deleteOld();
      await refreshTokens.deleteOld();
      await throttle.deleteOld(86_400_000);
      await cimd.deleteStale();
      await usedJtis.deleteOld();
      await deviceCodes.deleteOld();
    } catch (err) {
      logger?.warn({ err: { message: (err as Error).message } }, 'OAuth housekeeping failed');
    }
  }

  return {
    keys,
    grants,
    accessTokens,
    clientEvents,
    clients,
    cimd,
    codes,
    refreshTokens,
    throttle,
    resolveClient,
    verifySecret: clients.verifySecret,
    runMaintenance,
    /** Lookups for the dashboard and the CLI: clients, secrets, a workspace's connected apps. */
    directory: directoryService(store, { clients, grants, cimd }),
    /** Which workspace created which client on its dashboard (it may manage it, and grant it only that workspace). */
    workspaceClients,
    /** RFC 8628 device authorization requests. */
    deviceCodes,
    /** One-time JWT ids (client assertions, identity assertions). */
    usedJtis,
    /** RFC 7523 §3 item 3: a client assertion sent to the root issuer's endpoints names the issuer or the endpoint. */
    clientAssertionAudiences: [root.issuer, endpointUrl(root, 'token'), endpointUrl(root, 'revoke'), endpointUrl(root, 'introspect')] as readonly string[],
    /** Clients for servers without a person: client_credentials, bound to one workspace. */
    machineClients: machineClientsService(store, clients, workspaceClients),
    /** Enterprise identity providers whose identity assertions (ID-JAG) the token endpoint accepts. */
    trustedIdps: trustedIdpsService(store, { allowPrivate: config.idpJwksAllowPrivateAddresses, timeoutMs: config.cimdTimeoutMs }),
    /** The upstream servers with endpoints of their own: tokens are issued only for those (the gateway sets them). */
    resourceServers,
    /** Seals authorization requests between /authorize and the consent decision. */
    requestBox: new SecretBox(secret, 'authorization-request'),
    /** Closes what the module holds open (PostgreSQL: the connection that hears revocations). */
    close: () => grants.close(),
  };
}

export type OAuth = ReturnType<typeof oauthModule>;
