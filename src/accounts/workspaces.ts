import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { newId } from '../util/ids.ts';
import { enqueueEvent } from '../webhooks/index.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import { AccountsError, isUniqueViolation } from './errors.ts';
import { normalizeEmail } from './users.ts';
import type { AccountsTables, Role, WorkspacesTable } from './tables.ts';

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  createdAt: number;
  /** The operator's own id for the workspace (e.g. its customer id in the company's systems), unique when set. */
  externalId: string | null;
}

export interface Membership {
  workspace: Workspace;
  userId: string;
  email: string;
  role: Role;
}

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

// Slugs become URL path segments (`/<slug>/mcp`), so anything a top-level route uses is reserved.
export const RESERVED_SLUGS = new Set([
  'well-known', '.well-known', 'api', 'mcp', 'oauth', 'admin', 'static', 'healthz', 'readyz', 'login', 'logout',
  'signin', 'signout', 'consent', 'authorize', 'token', 'register', 'revoke', 'introspect', 'userinfo', 'jwks',
  'dashboard', 'assets', 'docs', 'settings', 'account', 'www', 'favicon.ico', 'robots.txt', 'new', 'device',
]);

/** The one workspace-slug rule (3–40 lower-case letters, digits and single dashes), also as an HTML `pattern`. */
export const WORKSPACE_SLUG_PATTERN = '[a-z0-9][a-z0-9-]{1,38}[a-z0-9]';
const SLUG_RE = new RegExp(`^${WORKSPACE_SLUG_PATTERN}$`);

/** True when `slug` has a workspace slug's syntax (reserved names aside: no workspace has one). */
export const isWorkspaceSlug = (slug: string): boolean => SLUG_RE.test(slug) && !slug.includes('--');

/** Throws AccountsError('invalid_slug' | 'reserved_slug') with a message a person can act on. */
export function validateSlug(slug: string): void {
  if (!isWorkspaceSlug(slug)) {
    throw new AccountsError(
      'invalid_slug',
      `"${slug.slice(0, 60)}" is not a valid workspace slug: use 3–40 lower-case letters, digits and single dashes, starting and ending with a letter or digit`,
    );
  }
  if (RESERVED_SLUGS.has(slug)) throw new AccountsError('reserved_slug', `"${slug}" is reserved; choose another slug`);
}

const toWorkspace = (row: WorkspacesTable): Workspace => ({ id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at, externalId: row.external_id ?? null });

export function workspacesService(store: Store) {
  const db: Kysely<AccountsTables> = store.typed<AccountsTables>();

  async function requireWorkspace(slug: string): Promise<Workspace> {
    const ws = await getBySlug(slug);
    if (!ws) throw new AccountsError('not_found', `Workspace "${slug}" not found`);
    return ws;
  }
  async function getBySlug(slug: string): Promise<Workspace | undefined> {
    const row = await db.selectFrom('workspaces').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row && toWorkspace(row);
  }
  async function requireUserId(email: string): Promise<string> {
    const u = await db.selectFrom('users').select('id').where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
    if (!u) throw new AccountsError('not_found', `No user with the email ${email}`);
    return u.id;
  }

  /**
   * Renames a workspace and/or sets its external id (null clears it), in one transaction with its audit record
   * (`workspace.updated`, before and after). The slug, and so its URLs, never change. Throws
   * AccountsError('invalid_external_id' | 'external_id_taken' | 'not_found').
   */
  async function updateWorkspace(workspaceId: string, changes: { name?: string; externalId?: string | null }, audit?: AuditContext): Promise<Workspace> {
    const { externalId } = changes;
    if (externalId !== undefined && externalId !== null && !/^[\x21-\x7e]{1,200}$/.test(externalId)) {
      throw new AccountsError('invalid_external_id', 'An external id must be 1–200 printable ASCII characters without spaces');
    }
    const set: Partial<Pick<WorkspacesTable, 'name' | 'external_id'>> = {};
    if (changes.name !== undefined) set.name = changes.name.trim().slice(0, 200) || undefined;
    if (externalId !== undefined) set.external_id = externalId;
    if (set.name === undefined) delete set.name;
    try {
      return await db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('workspaces').selectAll().where('id', '=', workspaceId).executeTakeFirst();
        if (!before) throw new AccountsError('not_found', 'Workspace not found');
        if (Object.keys(set).length) await trx.updateTable('workspaces').set(set).where('id', '=', workspaceId).execute();
        const after = { ...before, ...set };
        const changed = (Object.keys(set) as (keyof typeof set)[]).filter((k) => before[k] !== after[k]);
        if (audit && changed.length) {
          await recordAudit(trx, {
            ...audit,
            action: 'workspace.updated',
            target: { type: 'workspace', id: workspaceId },
            workspaceId,
            before: Object.fromEntries(changed.map((k) => [k, before[k]])),
            after: Object.fromEntries(changed.map((k) => [k, after[k]])),
          });
        }
        return toWorkspace(after);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AccountsError('external_id_taken', 'Another workspace already has this external id');
      throw err;
    }
  }

  return {
    validateSlug,
    getWorkspaceBySlug: getBySlug,
    requireWorkspace,

    async getWorkspace(id: string): Promise<Workspace | undefined> {
      const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toWorkspace(row);
    },

    async createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }, audit?: AuditContext): Promise<Workspace> {
      validateSlug(input.slug);
      const row: WorkspacesTable = { id: newId(), slug: input.slug, name: (input.name ?? input.slug).trim().slice(0, 200) || input.slug, created_at: Date.now(), external_id: null };
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('workspaces').values(row).execute();
          if (input.ownerUserId) {
            await trx.insertInto('memberships').values({ workspace_id: row.id, user_id: input.ownerUserId, role: 'owner', created_at: row.created_at }).execute();
          }
          await enqueueEvent(trx, { type: 'workspace.created', workspaceId: row.id, data: { workspace_id: row.id, slug: row.slug, name: row.name } });
          if (audit) await recordAudit(trx, { ...audit, action: 'workspace.created', target: { type: 'workspace', id: row.id }, workspaceId: row.id, after: { slug: row.slug, name: row.name, owner_user_id: input.ownerUserId ?? null } });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AccountsError('slug_taken', `A workspace with the slug "${input.slug}" already exists`);
        throw err;
      }
      return toWorkspace(row);
    },

    /** Sets (or clears, with null) the id the company's own systems know the workspace by; unique across workspaces. */
    async setWorkspaceExternalId(workspaceId: string, externalId: string | null, audit?: AuditContext): Promise<Workspace> {
      return updateWorkspace(workspaceId, { externalId }, audit);
    },

    updateWorkspace,

    async findWorkspaceByExternalId(externalId: string): Promise<Workspace | undefined> {
      const row = await db.selectFrom('workspaces').selectAll().where('external_id', '=', externalId).executeTakeFirst();
      return row && toWorkspace(row);
    },

    /** Renames a workspace (its slug, and so its URLs, never change). */
    async renameWorkspace(workspaceId: string, name: string, audit?: AuditContext): Promise<void> {
      await updateWorkspace(workspaceId, { name }, audit);
    },

    /**
     * Deletes a workspace and its memberships (other modules' rows go with it by their foreign keys); true when it
     * existed. With `audit`, `workspace.deleted` is recorded in the same transaction (the trail keeps it).
     */
    async deleteWorkspace(workspaceId: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const before = audit ? await trx.selectFrom('workspaces').selectAll().where('id', '=', workspaceId).executeTakeFirst() : undefined;
        await trx.deleteFrom('memberships').where('workspace_id', '=', workspaceId).execute();
        const r = await trx.deleteFrom('workspaces').where('id', '=', workspaceId).executeTakeFirst();
        const deleted = Number(r.numDeletedRows) > 0;
        if (audit && deleted && before) {
          await recordAudit(trx, { ...audit, action: 'workspace.deleted', target: { type: 'workspace', id: workspaceId }, workspaceId, before: { slug: before.slug, name: before.name, external_id: before.external_id } });
        }
        return deleted;
      });
    },

    /** One page of workspaces in slug order, after the slug `after` (keyset paging). */
    async listWorkspacesPage(options: { after?: string; limit: number }): Promise<Workspace[]> {
      let q = db.selectFrom('workspaces').selectAll();
      if (options.after) q = q.where('slug', '>', options.after);
      return (await q.orderBy('slug').limit(options.limit).execute()).map(toWorkspace);
    },

    async listWorkspaces(): Promise<Workspace[]> {
      return (await db.selectFrom('workspaces').selectAll().orderBy('slug').execute()).map(toWorkspace);
    },

    async countWorkspaces(): Promise<number> {
      const r = await db.selectFrom('workspaces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    /** Adds or changes a membership (by email). */
    async addMember(slug: string, email: string, role: Role, audit?: AuditContext): Promise<void> {
      if (!ROLES.includes(role)) throw new AccountsError('invalid_role', `Role must be one of ${ROLES.join(', ')}`);
      const ws = await requireWorkspace(slug);
      const userId = await requireUserId(email);
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('memberships').select('role').where('workspace_id', '=', ws.id).where('user_id', '=', userId).executeTakeFirst();
        if (existing) {
          if (existing.role === 'owner' && role !== 'owner') await assertAnotherOwner(trx, ws.id, userId);
          await trx.updateTable('memberships').set({ role }).where('workspace_id', '=', ws.id).where('user_id', '=', userId).execute();
        } else {
          await trx.insertInto('memberships').values({ workspace_id: ws.id, user_id: userId, role, created_at: Date.now() }).execute();
        }
        if (audit && existing?.role !== role) {
          await recordAudit(trx, {
            ...audit, action: existing ? 'member.role_changed' : 'member.added', target: { type: 'user', id: userId }, workspaceId: ws.id,
            before: existing ? { role: existing.role } : undefined, after: { email: normalizeEmail(email), role },
          });
        }
      });
    },

    async removeMember(slug: string, email: string, audit?: AuditContext): Promise<void> {
      const ws = await requireWorkspace(slug);
      const userId = await requireUserId(email);
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('memberships').select('role').where('workspace_id', '=', ws.id).where('user_id', '=', userId).executeTakeFirst();
        if (!existing) throw new AccountsError('not_found', `${email} is not a member of ${slug}`);
        if (existing.role === 'owner') await assertAnotherOwner(trx, ws.id, userId);
        await trx.deleteFrom('memberships').where('workspace_id', '=', ws.id).where('user_id', '=', userId).execute();
        if (audit) await recordAudit(trx, { ...audit, action: 'member.removed', target: { type: 'user', id: userId }, workspaceId: ws.id, before: { email: normalizeEmail(email), role: existing.role } });
      });
    },

    async listMembers(slug: string): Promise<{ userId: string; email: string; name: string; role: Role }[]> {
      const ws = await requireWorkspace(slug);
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id as userId', 'users.email as email', 'users.name as name', 'memberships.role as role'])
        .where('memberships.workspace_id', '=', ws.id)
        .orderBy('users.email_normalized')
        .execute();
      return rows;
    },

    /** The user's role in a workspace, or undefined when not a member. */
    async getRole(workspaceId: string, userId: string): Promise<Role | undefined> {
      const r = await db.selectFrom('memberships').select('role').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).executeTakeFirst();
      return r?.role;
    },

    async listWorkspacesForUser(userId: string): Promise<(Workspace & { role: Role })[]> {
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
        .selectAll('workspaces')
        .select('memberships.role as role')
        .where('memberships.user_id', '=', userId)
        .orderBy('workspaces.slug')
        .execute();
      return rows.map((r) => ({ ...toWorkspace(r), role: r.role }));
    },
  };
}

async function assertAnotherOwner(trx: Kysely<AccountsTables>, workspaceId: string, userId: string): Promise<void> {
  const other = await trx
    .selectFrom('memberships')
    .select('user_id')
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .where('user_id', '!=', userId)
    .executeTakeFirst();
  if (!other) throw new AccountsError('last_owner', 'A workspace must keep at least one owner');
}

export type WorkspacesService = ReturnType<typeof workspacesService>;
