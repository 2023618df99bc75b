// The identity module's public face: sign-in connections (OpenID Connect providers), provider identities linked to
// accounts, and the workspace rules that go with them (auto-join, a required connection).
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/crypto-box.ts';
import type { Logger } from '../util/logger.ts';
import { connectionsService } from './connections.ts';
import { linksService } from './links.ts';
import { providerMetadataService } from './provider-metadata.ts';
import { signInService, type IdentityAccounts } from './sign-in.ts';
import { workspaceRulesService } from './workspace-rules.ts';

export type { Connection } from './connections.ts';
export { CONNECTION_NAME_PATTERN, DEFAULT_SCOPES } from './connections.ts';
export { IdentityError } from './errors.ts';
export type { LinkedIdentity } from './links.ts';
export { callbackUrl, SignInRefusal, type IdentityAccounts, type RefusalKind, type SignInResult } from './sign-in.ts';
export type { JoinRule } from './workspace-rules.ts';
export { discoveryUrl, ProviderError } from './provider-metadata.ts';
export { identityMigrations } from './migrations.ts';

export type IdentityConfig = Pick<
  Config,
  | 'publicUrl'
  | 'ssoAllowHttp'
  | 'ssoAllowPrivateAddresses'
  | 'ssoTimeoutMs'
  | 'ssoMaxBytes'
  | 'ssoCacheSeconds'
  | 'ssoClockSkewSeconds'
  | 'ssoSignInTtlSeconds'
>;

export function identityModule(store: Store, config: IdentityConfig, secret: string, accounts: IdentityAccounts, logger?: Logger) {
  const connections = connectionsService(store, new SecretBox(secret, 'identity-client-secrets'), { allowHttp: config.ssoAllowHttp });
  const providers = providerMetadataService({
    allowHttp: config.ssoAllowHttp,
    allowPrivateAddresses: config.ssoAllowPrivateAddresses,
    timeoutMs: config.ssoTimeoutMs,
    maxBytes: config.ssoMaxBytes,
    cacheSeconds: config.ssoCacheSeconds,
  });
  const links = linksService(store);
  const rules = workspaceRulesService(store);
  const signIn = signInService({ store, config, box: new SecretBox(secret, 'identity-sign-in'), connections, providers, links, rules, accounts, logger });

  /**
   * Which of these workspaces a session may use: a workspace that requires a connection admits only sessions
   * signed in through it. Returns the refused ones with the label of the connection they require.
   */
  async function workspaceAccess(sessionCookie: string | undefined): Promise<(workspaceId: string) => { allowed: true } | { allowed: false; connectionLabel: string; connectionName: string }> {
    const required = await rules.requirements();
    if (required.size === 0) return () => ({ allowed: true });
    const used = await links.sessionConnection(sessionCookie);
    const all = new Map((await connections.listConnections()).map((c) => [c.id, c]));
    return (workspaceId) => {
      const need = required.get(workspaceId);
      if (!need || need === used) return { allowed: true };
      const conn = all.get(need);
      return { allowed: false, connectionLabel: conn?.label ?? 'another sign-in method', connectionName: conn?.name ?? '' };
    };
  }

  return { connections, providers, links, rules, signIn, workspaceAccess };
}

export type Identity = ReturnType<typeof identityModule>;
