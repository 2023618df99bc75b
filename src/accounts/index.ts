import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { sessionsService } from './sessions.ts';
import { usersService } from './users.ts';
import { workspacesService } from './workspaces.ts';

export { AccountsError, isUniqueViolation } from './errors.ts';
export type { User } from './users.ts';
export { normalizeEmail } from './users.ts';
export type { Workspace } from './workspaces.ts';
export { isWorkspaceSlug, WORKSPACE_SLUG_PATTERN } from './workspaces.ts';
export { ROLES } from './workspaces.ts';
export type { Session } from './sessions.ts';
export type { Role } from './tables.ts';
export { invitationsService, InvitationRefused, type Invitation, type InvitationsService, type InvitationState } from './invitations.ts';
export { passwordResetsService, ResetRefused, type PasswordResetsService } from './password-resets.ts';
export { twoFactorService, TwoFactorError, RECOVERY_CODE_COUNT, type TwoFactorService, type VerifyResult } from './two-factor.ts';
export { otpauthUri, base32Encode } from './totp.ts';

/** The accounts module's public face: other modules call these, never the tables. */
export function accountsModule(store: Store, config: Pick<Config, 'sessionTtlSeconds'>) {
  return {
    users: usersService(store),
    workspaces: workspacesService(store),
    sessions: sessionsService(store, config.sessionTtlSeconds),
  };
}

export type Accounts = ReturnType<typeof accountsModule>;
