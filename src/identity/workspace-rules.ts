// Which workspaces a provider's sign-in joins (by verified e-mail domain or by a claim value) and which
// workspaces accept only sign-ins through a given connection.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { newId } from '../util/ids.ts';
import { IdentityError } from './errors.ts';
import type { IdentityJoinRulesTable, IdentityTables, JoinRuleKind } from './tables.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export interface JoinRule {
  id: string;
  workspaceId: string;
  connectionId: string | null;
  kind: JoinRuleKind;
  claim: string | null;
  value: string;
  role: 'admin' | 'member';
}

/** What a sign-in offers the rules: the e-mail only when the provider verified it, and every claim it sent. */
export interface SignInFacts {
  connectionId: string;
  verifiedEmail: string | undefined;
  claims: Record<string, unknown>;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CLAIM_RE = /^[A-Za-z0-9_:.\-/]{1,100}$/;
// Claims that say who the person is, not which group they are in: a rule on them would be a per-person rule.
const NOT_GROUP_CLAIMS = new Set(['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'email', 'email_verified', 'at_hash', 'c_hash', 'auth_time']);

const toRule = (r: IdentityJoinRulesTable): JoinRule => ({ id: r.id, workspaceId: r.workspace_id, connectionId: r.connection_id, kind: r.kind, claim: r.claim, value: r.value, role: r.role });

/** True when the rule admits this sign-in. */
export function ruleMatches(rule: JoinRule, facts: SignInFacts): boolean {
  if (rule.connectionId && rule.connectionId !== facts.connectionId) return false;
  if (rule.kind === 'domain') {
    // Only a verified address proves the domain: anyone can type any address into an unverified profile.
    const domain = facts.verifiedEmail?.split('@').pop()?.toLowerCase();
    return !!domain && domain === rule.value;
  }
  const v = rule.claim ? facts.claims[rule.claim] : undefined;
  if (typeof v === 'string') return v === rule.value;
  return Array.isArray(v) && v.some((x) => x === rule.value);
}

export function workspaceRulesService(store: Store) {
  const db: Kysely<IdentityTables> = store.typed<IdentityTables>();
  return {
    async addJoinRule(input: { workspaceId: string; connectionId?: string | null; domain?: string; claim?: string; value?: string; role?: 'admin' | 'member' }, audit?: AuditContext): Promise<JoinRule> {
      const role = input.role ?? 'member';
      // Auto-join never makes owners: ownership is given by a person.
      if (role !== 'admin' && role !== 'member') throw new IdentityError('invalid_input', 'Auto-join gives the role member or admin');
      let row: IdentityJoinRulesTable;
      const base = { id: newId(), workspace_id: input.workspaceId, connection_id: input.connectionId ?? null, role, created_at: Date.now() };
      if (input.domain !== undefined && input.claim === undefined) {
        const domain = input.domain.trim().toLowerCase().replace(/^@/, '');
        if (!DOMAIN_RE.test(domain)) throw new IdentityError('invalid_input', `"${input.domain.slice(0, 60)}" is not an e-mail domain`);
        row = { ...base, kind: 'domain', claim: null, value: domain };
      } else if (input.claim !== undefined && input.domain === undefined) {
        if (!CLAIM_RE.test(input.claim) || NOT_GROUP_CLAIMS.has(input.claim)) throw new IdentityError('invalid_input', `"${input.claim.slice(0, 60)}" cannot be used as a group claim`);
        const value = (input.value ?? '').trim();
        if (!value || value.length > 320) throw new IdentityError('invalid_input', 'A claim rule needs the value the claim must hold');
        row = { ...base, kind: 'claim', claim: input.claim, value };
      } else {
        throw new IdentityError('invalid_input', 'Give either an e-mail domain or a claim and its value');
      }
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('identity_join_rules').values(row).execute();
        if (audit) await recordAudit(trx as never, { ...audit, action: 'sso.join_rule_added', target: { type: 'sso_join_rule', id: row.id }, workspaceId: row.workspace_id, after: toRule(row) });
      });
      return toRule(row);
    },

    async listJoinRules(workspaceId?: string): Promise<JoinRule[]> {
      let q = db.selectFrom('identity_join_rules').selectAll().orderBy('created_at');
      if (workspaceId) q = q.where('workspace_id', '=', workspaceId);
      return (await q.execute()).map(toRule);
    },

    async removeJoinRule(id: string, audit?: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const r = await trx.deleteFrom('identity_join_rules').where('id', '=', id).executeTakeFirst();
        if (!r.numDeletedRows) throw new IdentityError('not_found', 'No such auto-join rule');
        if (audit) await recordAudit(trx as never, { ...audit, action: 'sso.join_rule_removed', target: { type: 'sso_join_rule', id } });
      });
    },

    /** The rules that admit this sign-in. */
    async matchingRules(facts: SignInFacts): Promise<JoinRule[]> {
      const rules = (await db.selectFrom('identity_join_rules').selectAll().execute()).map(toRule);
      return rules.filter((r) => ruleMatches(r, facts));
    },

    /** Sign-ins to this workspace must come through `connectionId` (null lifts the requirement). */
    async requireConnection(workspaceId: string, connectionId: string | null, audit?: AuditContext): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('identity_workspace_requirements').where('workspace_id', '=', workspaceId).execute();
        if (connectionId) await trx.insertInto('identity_workspace_requirements').values({ workspace_id: workspaceId, connection_id: connectionId }).execute();
        if (audit) await recordAudit(trx as never, { ...audit, action: 'sso.requirement_changed', target: { type: 'workspace', id: workspaceId }, workspaceId, after: { required_connection: connectionId } });
      });
    },

    /** workspace id → the connection id it requires. */
    async requirements(): Promise<Map<string, string>> {
      const rows = await db.selectFrom('identity_workspace_requirements').selectAll().execute();
      return new Map(rows.map((r) => [r.workspace_id, r.connection_id]));
    },
  };
}

export type WorkspaceRulesService = ReturnType<typeof workspaceRulesService>;
