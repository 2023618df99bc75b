// What the management API needs from the rest of Tollgate: the modules' public faces, passed by the composition root.
import type { Config } from '../config/config.ts';
import type { Accounts, Invitation, InvitationsService, Workspace } from '../accounts/index.ts';
import type { OAuth } from '../oauth/index.ts';
import type { Credits } from '../credits/index.ts';
import type { Store } from '../store/store.ts';
import type { Audit, AuditContext } from '../audit/index.ts';
import type { ApiKeysService } from './keys.ts';

export type ApiConfig = Pick<Config, 'publicUrl' | 'apiRateLimitPerMinute' | 'bodyLimitBytes' | 'trustedProxyHops'>;

export interface ApiDeps {
  readonly config: ApiConfig;
  /** The API module's own tables (keys, idempotency records), and transactions shared with credits writes. */
  readonly store: Store;
  readonly keys: ApiKeysService;
  readonly accounts: Pick<Accounts, 'users' | 'workspaces'>;
  readonly oauth: Pick<OAuth, 'clients' | 'grants' | 'workspaceClients'>;
  readonly credits: Credits;
  /** The audit trail, read by the audit operations (every module writes its own records). */
  readonly audit: Pick<Audit, 'list'>;
  /** The registered MCP tools' names and own costs (for the price list). */
  readonly tools: readonly { readonly name: string; readonly cost: number }[];
  /** Workspace invitations (the accounts module's single-use links). */
  readonly invitations: Pick<InvitationsService, 'createInvitation' | 'listOpenInvitations' | 'revokeInvitation'>;
  /** Mails a new invitation's link as the members page and `tollgate admin invite` do (when SMTP is configured) and
   *  marks it mailed; returns the link either way. */
  mailInvitation(invitation: Invitation, token: string): Promise<{ url: string; mailed: boolean }>;
  /** Creates a workspace and runs every module's set-up for it (initial credits, …). */
  createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }, audit?: AuditContext): Promise<Workspace>;
}
