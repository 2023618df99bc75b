// What the web module needs from the rest of Tollgate: the composition root passes one WebDeps to mountWeb, and
// each page takes the part of it that it uses. Only the modules' public faces (their index.ts) are named here.
import type { Config } from '../config/config.ts';
import type { Accounts, InvitationsService, PasswordResetsService, TwoFactorService, Workspace } from '../accounts/index.ts';
import type { OAuth } from '../oauth/index.ts';
import type { Credits } from '../credits/index.ts';
import type { Identity } from '../identity/index.ts';
import type { CsrfGuard } from './csrf.ts';
import type { PendingSignIn } from './pending-sign-in.ts';
import type { Audit, AuditContext } from '../audit/index.ts';
import type { Webhooks } from '../webhooks/index.ts';
import type { Gateway } from '../gateway/index.ts';

export type WebConfig = Pick<
  Config,
  | 'publicUrl'
  | 'issuerMode'
  | 'sharedEndpoint'
  | 'sessionTtlSeconds'
  | 'loginMaxFailures'
  | 'loginWindowSeconds'
  | 'trustedProxyHops'
  | 'secretRotationOverlapSeconds'
  | 'requireAdminTwoFactor'
  | 'invitationTtlSeconds'
  | 'passwordResetTtlSeconds'
  | 'localPasswords'
  | 'ssoStartsPerIp'
  | 'outboundWebhookAllowHttp'
>;

/** What the pages need of outgoing mail (the composition root passes src/mail's sender). */
export interface MailPort {
  readonly configured: boolean;
  /** True when the mail server took the message; never throws. */
  send(message: { to: string; subject: string; text: string }): Promise<boolean>;
}

export interface WebDeps {
  readonly config: WebConfig;
  /** Key material the web module derives its own keys from (CSRF tokens), once, when it is mounted. */
  readonly secret: string;
  readonly accounts: Pick<Accounts, 'users' | 'workspaces' | 'sessions'>;
  readonly oauth: Pick<
    OAuth,
    'clients' | 'clientEvents' | 'directory' | 'grants' | 'keys' | 'throttle' | 'workspaceClients' | 'resolveClient' | 'codes' | 'requestBox' | 'deviceCodes' | 'resourceServers'
  >;
  readonly credits: Pick<
    Credits,
    'getAccount' | 'planInfo' | 'spendSummary' | 'usageReport' | 'listLedger' | 'grantCredits' | 'listPrices' | 'setPrice' | 'clearPrice' | 'listPlans' | 'upsertPlan' | 'deletePlan' | 'setPlan' | 'checkoutUrlFor' | 'lowBalanceCredits'
  >;
  /** Management API keys (the admin page creates, lists and revokes them); absent: the page says so. */
  readonly api?: { readonly keys: ApiKeysPort };
  /** The registered MCP tools' names and own costs (the admin prices page). */
  readonly tools?: readonly { readonly name: string; readonly cost: number }[];
  /** Sign-in connections, linked identities and the workspace rules that go with them. */
  readonly identity: Pick<Identity, 'connections' | 'providers' | 'links' | 'rules' | 'signIn' | 'workspaceAccess'>;
  /** The upstream MCP servers (the admin page; the same as `tollgate upstream …`). */
  readonly gateway: Pick<Gateway, 'store' | 'health'>;
  /** Creates a workspace and runs every module's set-up for it (initial credits, …). */
  createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }, audit?: AuditContext): Promise<Workspace>;
  /** The audit trail: the admin page and each workspace's page for its owners; sign-ins are recorded here. */
  readonly audit: Pick<Audit, 'list' | 'record'>;
  /** Outbound webhook endpoints and their delivery logs (the admin page). */
  readonly webhooks: Pick<Webhooks, 'endpoints'>;
  readonly invitations: InvitationsService;
  readonly passwordResets: PasswordResetsService;
  readonly twoFactor: TwoFactorService;
  readonly mail: MailPort;
}

/** What the admin pages need of the management API's keys (src/api/keys.ts implements it). */
export interface ApiKeysPort {
  createKey(input: { name: string; access: 'read' | 'write'; workspaceId?: string | null; expiresAt?: number | null; createdBy?: string | null }, audit?: AuditContext): Promise<{ key: ApiKeyRecord; secret: string }>;
  listKeys(): Promise<ApiKeyRecord[]>;
  revokeKey(id: string, audit?: AuditContext): Promise<boolean>;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  access: 'read' | 'write';
  workspaceId: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** What the pages get: WebDeps without the secret, and the CSRF guard derived from it once. */
export type PageDeps = Omit<WebDeps, 'secret'> & { readonly csrf: CsrfGuard; readonly pendingSignIn: PendingSignIn };
