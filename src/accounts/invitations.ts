// Workspace invitations: an owner or admin invites an address with a role; the link carries a random token of which
// only the SHA-256 is stored; it works once, until it expires or is revoked. Accepting adds the membership, for an
// account that is signed in (`acceptForUser`, also the hook a single-sign-on sign-up calls with the account it made)
// or for a new account created with a password (`acceptWithSignUp`), in one transaction with the token's use.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Config } from '../config/config.ts';
import { UserFacingError } from '../util/errors.ts';
import { newId, randomToken, sha256Hex } from '../util/ids.ts';
import { AccountsError, isUniqueViolation } from './errors.ts';
import { hashPassword } from './password.ts';
import type { AccountsTables, InvitationsTable, Role, UsersTable } from './tables.ts';
import { isEmailAddress, MIN_PASSWORD_LENGTH, normalizeEmail, type User } from './users.ts';
import { ROLES, type Workspace } from './workspaces.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export type InvitationState = 'pending' | 'expired' | 'accepted' | 'revoked';

export interface Invitation {
  id: string;
  workspace: Workspace;
  email: string;
  role: Role;
  invitedBy?: { id: string; email: string; name: string };
  createdAt: number;
  expiresAt: number;
  mailedAt?: number;
  acceptedAt?: number;
  revokedAt?: number;
  state: InvitationState;
}

export type InvitationRefusal = 'invalid' | 'expired' | 'used' | 'revoked' | 'already_member' | 'invalid_email' | 'invalid_role';

const REFUSAL_MESSAGES: Record<InvitationRefusal, string> = {
  invalid: 'This invitation link is not valid. Check that you copied the whole link, or ask for a new invitation.',
  expired: 'This invitation has expired. Ask the person who invited you to send a new one.',
  used: 'This invitation has already been used. Sign in to reach the workspace, or ask for a new invitation.',
  revoked: 'This invitation was withdrawn. Ask the person who invited you if you still need access.',
  already_member: 'That person is already a member of this workspace.',
  invalid_email: 'That is not a valid email address.',
  invalid_role: `The role must be one of ${ROLES.join(', ')}.`,
};

/** Why an invitation cannot be created or accepted; the message is meant for the page. */
export class InvitationRefused extends UserFacingError {
  readonly reason: InvitationRefusal;
  constructor(reason: InvitationRefusal, message = REFUSAL_MESSAGES[reason]) {
    super(message);
    this.reason = reason;
  }
}

const stateOf = (row: Pick<InvitationsTable, 'accepted_at' | 'revoked_at' | 'expires_at'>, now: number): InvitationState =>
  row.accepted_at !== null ? 'accepted' : row.revoked_at !== null ? 'revoked' : Number(row.expires_at) <= now ? 'expired' : 'pending';

const refusalFor = (state: InvitationState): InvitationRefusal => (state === 'accepted' ? 'used' : state === 'pending' ? 'invalid' : state);

/** Ended invitations are kept this long (the members page and the log can still name them), then deleted. */
const KEEP_ENDED_MS = 30 * 86_400_000;
const CLEAN_UP_EVERY_MS = 3_600_000;

export function invitationsService(store: Store, config: Pick<Config, 'invitationTtlSeconds'>) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();
  let lastCleanUp = 0;

  function select(trx: Kysely<AccountsTables> = db) {
    return trx
      .selectFrom('invitations')
      .innerJoin('workspaces', 'workspaces.id', 'invitations.workspace_id')
      .leftJoin('users as inviter', 'inviter.id', 'invitations.invited_by')
      .selectAll('invitations')
      .select(['workspaces.slug as ws_slug', 'workspaces.name as ws_name', 'workspaces.created_at as ws_created_at', 'workspaces.external_id as ws_external_id', 'inviter.email as inviter_email', 'inviter.name as inviter_name']);
  }
  type Row = Awaited<ReturnType<ReturnType<typeof select>['executeTakeFirstOrThrow']>>;
  const toInvitation = (r: Row, now = Date.now()): Invitation => ({
    id: r.id,
    workspace: { id: r.workspace_id, slug: r.ws_slug, name: r.ws_name, createdAt: Number(r.ws_created_at), externalId: r.ws_external_id ?? null },
    email: r.email,
    role: r.role,
    invitedBy: r.invited_by && r.inviter_email ? { id: r.invited_by, email: r.inviter_email, name: r.inviter_name ?? '' } : undefined,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    mailedAt: r.mailed_at === null ? undefined : Number(r.mailed_at),
    acceptedAt: r.accepted_at === null ? undefined : Number(r.accepted_at),
    revokedAt: r.revoked_at === null ? undefined : Number(r.revoked_at),
    state: stateOf(r, now),
  });

  /** Marks the invitation used, once: the conditional update is what makes the link single-use under concurrency. */
  async function claim(trx: Kysely<AccountsTables>, token: string, now: number): Promise<Row> {
    const hash = sha256Hex(token);
    const r = await trx
      .updateTable('invitations')
      .set({ accepted_at: now })
      .where('token_hash', '=', hash)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    const row = await select(trx).where('invitations.token_hash', '=', hash).executeTakeFirst();
    if (!row) throw new InvitationRefused('invalid');
    if (!Number(r.numUpdatedRows)) throw new InvitationRefused(refusalFor(stateOf(row, now)));
    return row;
  }

  async function addMembership(trx: Kysely<AccountsTables>, row: Row, userId: string, now: number): Promise<boolean> {
    const existing = await trx.selectFrom('memberships').select('role').where('workspace_id', '=', row.workspace_id).where('user_id', '=', userId).executeTakeFirst();
    // An existing membership keeps its role: an invitation never demotes anyone (nor silently promotes).
    if (!existing) await trx.insertInto('memberships').values({ workspace_id: row.workspace_id, user_id: userId, role: row.role, created_at: now }).execute();
    await trx.updateTable('invitations').set({ accepted_by: userId }).where('id', '=', row.id).execute();
    return !!existing;
  }

  return {
    /**
     * Creates an invitation and returns it with its token (shown once; only its hash is kept). A pending invitation
     * of the same address to the same workspace is revoked: the newest link is the one that works.
     */
    async createInvitation(input: { workspace: Workspace; email: string; role: Role; invitedBy?: string }, audit?: AuditContext): Promise<{ invitation: Invitation; token: string }> {
      const email = input.email.trim();
      if (!isEmailAddress(email)) throw new InvitationRefused('invalid_email', `"${email.slice(0, 80)}" is not a valid email address.`);
      if (!ROLES.includes(input.role)) throw new InvitationRefused('invalid_role');
      const token = randomToken();
      const now = Date.now();
      const row: InvitationsTable = {
        id: newId(),
        workspace_id: input.workspace.id,
        email,
        email_normalized: normalizeEmail(email),
        role: input.role,
        token_hash: sha256Hex(token),
        invited_by: input.invitedBy ?? null,
        created_at: now,
        expires_at: now + config.invitationTtlSeconds * 1000,
        mailed_at: null,
        accepted_at: null,
        accepted_by: null,
        revoked_at: null,
      };
      await db.transaction().execute(async (trx) => {
        const member = await trx
          .selectFrom('memberships')
          .innerJoin('users', 'users.id', 'memberships.user_id')
          .select('users.id')
          .where('memberships.workspace_id', '=', input.workspace.id)
          .where('users.email_normalized', '=', row.email_normalized)
          .executeTakeFirst();
        if (member) throw new InvitationRefused('already_member', `${email} is already a member of this workspace.`);
        await trx
          .updateTable('invitations')
          .set({ revoked_at: now })
          .where('workspace_id', '=', row.workspace_id)
          .where('email_normalized', '=', row.email_normalized)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .execute();
        await trx.insertInto('invitations').values(row).execute();
        if (audit) await recordAudit(trx, { ...audit, action: 'invitation.created', target: { type: 'invitation', id: row.id }, workspaceId: row.workspace_id, after: { email: row.email, role: row.role } });
      });
      const invitation = toInvitation(await select().where('invitations.id', '=', row.id).executeTakeFirstOrThrow(), now);
      // Housekeeping, at most hourly per process: invitations that ended long ago go.
      if (now - lastCleanUp > CLEAN_UP_EVERY_MS) {
        lastCleanUp = now;
        await this.deleteEnded(KEEP_ENDED_MS);
      }
      return { invitation, token };
    },

    /** Records that the link went to the mail server (the address then received it). */
    async markMailed(id: string): Promise<void> {
      await db.updateTable('invitations').set({ mailed_at: Date.now() }).where('id', '=', id).execute();
    },

    /** The invitation a link carries, in whatever state, or undefined for a token that was never issued. */
    async findByToken(token: string | undefined): Promise<Invitation | undefined> {
      if (!token || token.length > 128) return undefined;
      const row = await select().where('invitations.token_hash', '=', sha256Hex(token)).executeTakeFirst();
      return row && toInvitation(row);
    },

    /** A workspace's open invitations (pending or expired, not accepted or revoked), newest first. */
    async listOpenInvitations(workspaceId: string): Promise<Invitation[]> {
      const rows = await select()
        .where('invitations.workspace_id', '=', workspaceId)
        .where('invitations.accepted_at', 'is', null)
        .where('invitations.revoked_at', 'is', null)
        .orderBy('invitations.created_at', 'desc')
        .execute();
      const now = Date.now();
      return rows.map((r) => toInvitation(r, now));
    },

    /** Revokes an open invitation of this workspace; false when there is none with that id. */
    async revokeInvitation(workspaceId: string, id: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('invitations')
          .set({ revoked_at: Date.now() })
          .where('id', '=', id)
          .where('workspace_id', '=', workspaceId)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        const revoked = Number(r.numUpdatedRows) > 0;
        if (revoked && audit) await recordAudit(trx, { ...audit, action: 'invitation.revoked', target: { type: 'invitation', id }, workspaceId });
        return revoked;
      });
    },

    /**
     * Accepts the invitation for an existing account (signed in with a password, or just created or found by single
     * sign-on): uses the link up and adds the membership with the invited role. Throws InvitationRefused.
     */
    async acceptForUser(token: string, userId: string, audit?: AuditContext): Promise<{ workspace: Workspace; role: Role; alreadyMember: boolean }> {
      const now = Date.now();
      return db.transaction().execute(async (trx) => {
        const row = await claim(trx, token, now);
        const alreadyMember = await addMembership(trx, row, userId, now);
        if (audit) await recordAudit(trx, { ...audit, action: 'invitation.accepted', target: { type: 'invitation', id: row.id }, workspaceId: row.workspace_id, after: { user_id: userId, role: row.role, already_member: alreadyMember } });
        const inv = toInvitation(row, now);
        return { workspace: inv.workspace, role: inv.role, alreadyMember };
      });
    },

    /**
     * Signs the invited person up: creates the account for the invited address with this password and adds the
     * membership, together with the link's use. `emailVerified` when the link was mailed (it reached that mailbox).
     */
    async acceptWithSignUp(token: string, input: { password: string; name?: string }, audit?: AuditContext): Promise<{ user: User; workspace: Workspace; role: Role }> {
      if (input.password.length < MIN_PASSWORD_LENGTH) throw new AccountsError('weak_password', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
      const passwordHash = await hashPassword(input.password);
      const now = Date.now();
      try {
        return await db.transaction().execute(async (trx) => {
          const row = await claim(trx, token, now);
          const user: UsersTable = {
            id: newId(),
            email: row.email,
            email_normalized: row.email_normalized,
            name: (input.name ?? '').trim().slice(0, 200),
            password_hash: passwordHash,
            is_admin: 0,
            email_verified: row.mailed_at !== null ? 1 : 0,
            created_at: now,
          };
          await trx.insertInto('users').values(user).execute();
          await addMembership(trx, row, user.id, now);
          if (audit) {
            // The new account is the actor: it exists from this transaction on.
            const actor = { type: 'user' as const, id: user.id, label: user.email };
            await recordAudit(trx, { ...audit, actor, action: 'invitation.accepted', target: { type: 'invitation', id: row.id }, workspaceId: row.workspace_id, after: { user_id: user.id, role: row.role, signed_up: true } });
          }
          const inv = toInvitation(row, now);
          return {
            user: { id: user.id, email: user.email, name: user.name, isAdmin: false, emailVerified: user.email_verified === 1, createdAt: now },
            workspace: inv.workspace,
            role: inv.role,
          };
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AccountsError('email_taken', 'An account with this email address already exists: sign in to accept the invitation');
        throw err;
      }
    },

    /** Deletes invitations that ended (expired, accepted or revoked) more than `olderThanMs` ago. */
    async deleteEnded(olderThanMs: number): Promise<number> {
      const before = Date.now() - olderThanMs;
      const r = await db
        .deleteFrom('invitations')
        .where((eb) => eb.or([eb('expires_at', '<', before), eb('accepted_at', '<', before), eb('revoked_at', '<', before)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type InvitationsService = ReturnType<typeof invitationsService>;
