// What the web module needs from the rest of Tollgate: the composition root passes one WebDeps to mountWeb, and
// each page takes the part of it that it uses. Only the modules' public faces (their index.ts) are named here.
import type { Config } from '../config/config.ts';
import type { Accounts, Workspace } from '../accounts/index.ts';
import type { OAuth } from '../oauth/index.ts';
import type { Credits } from '../credits/index.ts';
import type { CsrfGuard } from './csrf.ts';
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
>;

export interface WebDeps {
  readonly config: WebConfig;
  /** Key material the web module derives its own keys from (CSRF tokens), once, when it is mounted. */
  readonly secret: string;
  readonly accounts: Pick<Accounts, 'users' | 'workspaces' | 'sessions'>;
  readonly oauth: Pick<
    OAuth,
    'clients' | 'clientEvents' | 'directory' | 'grants' | 'keys' | 'throttle' | 'workspaceClients' | 'resolveClient' | 'codes' | 'requestBox'
  >;
  readonly credits: Pick<Credits, 'getAccount' | 'planInfo' | 'spendSummary' | 'usageReport' | 'listLedger' | 'grantCredits'>;
  /** The upstream MCP servers (the admin page; the same as `tollgate upstream …`). */
  readonly gateway: Pick<Gateway, 'store' | 'health'>;
  /** Creates a workspace and runs every module's set-up for it (initial credits, …). */
  createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }): Promise<Workspace>;
}

/** What the pages get: WebDeps without the secret, and the CSRF guard derived from it once. */
export type PageDeps = Omit<WebDeps, 'secret'> & { readonly csrf: CsrfGuard };
