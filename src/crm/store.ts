// The demo CRM's data access: contacts and deals, always scoped to one workspace. Amounts are integer cents.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { prepareQuery, type PreparedQuery } from '../store/prepared.ts';
import type { Store } from '../store/store.ts';
import type { CrmContactsTable, CrmDealsTable, CrmTables } from './tables.ts';
import { contactReadBatcher } from './contact-batch.ts';

export const STAGES = ['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'] as const;
export type Stage = (typeof STAGES)[number];
/** Win probability per stage, for the weighted forecast. */
export const STAGE_PROBABILITY: Readonly<Record<Stage, number>> = { lead: 0.1, qualified: 0.25, proposal: 0.5, negotiation: 0.75, won: 1, lost: 0 };
export const OPEN_STAGES: readonly Stage[] = ['lead', 'qualified', 'proposal', 'negotiation'];

export interface Contact {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  title: string | null;
  phone: string | null;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Deal {
  id: string;
  title: string;
  amount: number;
  currency: string;
  stage: Stage;
  contactId: string | null;
  expectedClose: string | null;
  createdAt: string;
  updatedAt: string;
  stageChangedAt: string;
}

export interface ContactInput {
  name: string;
  email?: string | null;
  company?: string | null;
  title?: string | null;
  phone?: string | null;
  notes?: string | null;
}

export interface DealInput {
  title: string;
  amountCents: number;
  currency: string;
  stage: Stage;
  contactId?: string | null;
  expectedClose?: string | null;
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
/** Short, readable, prefixed ids (`ct_…`, `dl_…`): easy for a model to quote back. */
export function crmId(prefix: 'ct' | 'dl'): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += ID_ALPHABET[b & 31];
  return `${prefix}_${s}`;
}

// Timestamps repeat (every read of a record formats the same ones): remember recent conversions, boundedly.
const isoCache = new Map<number, string>();
const iso = (ms: number): string => {
  let s = isoCache.get(ms);
  if (s === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    isoCache.set(ms, (s = new Date(ms).toISOString()));
  }
  return s;
};

export const toContact = (r: CrmContactsTable): Contact => ({
  id: r.id,
  name: r.name,
  email: r.email,
  company: r.company,
  title: r.title,
  phone: r.phone,
  notes: r.notes,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export const toDeal = (r: CrmDealsTable): Deal => ({
  id: r.id,
  title: r.title,
  amount: Number(r.amount_cents) / 100,
  currency: r.currency,
  stage: r.stage as Stage,
  contactId: r.contact_id,
  expectedClose: r.expected_close,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  stageChangedAt: iso(r.stage_changed_at),
});

const contactSearchText = (c: { name: string; email?: string | null; company?: string | null; title?: string | null }): string =>
  [c.name, c.email, c.company, c.title].filter(Boolean).join(' ').toLowerCase().slice(0, 1200);

const dealSearchText = (title: string): string => title.toLowerCase().slice(0, 600);

/** A LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (used with ESCAPE '\'). */
export const containsPattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

const normalizeEmail = (email: string | null | undefined): string | null => (email ? email.trim().toLowerCase() : null);

export interface StageTotal {
  stage: Stage;
  currency: string;
  count: number;
  amountCents: number;
}

export interface CrmStore {
  searchContacts(workspaceId: string, q: { query?: string; company?: string; limit: number; offset: number }): Promise<{ contacts: Contact[]; hasMore: boolean }>;
  getContact(workspaceId: string, id: string): Promise<Contact | undefined>;
  /** A contact and the first `limit` of its deals (newest change first), in one statement; undefined when not here. */
  getContactWithDeals(workspaceId: string, id: string, limit: number): Promise<{ contact: Contact; deals: Deal[] } | undefined>;
  findContactByEmail(workspaceId: string, email: string): Promise<Contact | undefined>;
  createContact(workspaceId: string, input: ContactInput, at?: number): Promise<Contact>;
  /** Applies the given fields (null clears an optional one); undefined when there is no such contact here. */
  updateContact(workspaceId: string, id: string, patch: Partial<ContactInput>): Promise<Contact | undefined>;
  searchDeals(workspaceId: string, q: { query?: string; stage?: Stage; contactId?: string; minAmountCents?: number; limit: number; offset: number }): Promise<{ deals: Deal[]; hasMore: boolean }>;
  getDeal(workspaceId: string, id: string): Promise<Deal | undefined>;
  createDeal(workspaceId: string, input: DealInput, at?: number): Promise<Deal>;
  /** Moves a deal to a stage; undefined when there is no such deal here. */
  moveDealStage(workspaceId: string, id: string, stage: Stage): Promise<{ deal: Deal; previousStage: Stage } | undefined>;
  /** Deal count and total per stage and currency. */
  stageTotals(workspaceId: string): Promise<StageTotal[]>;
  countContacts(workspaceId: string): Promise<number>;
  /** Runs `fn` with a store whose writes commit together, or not at all. */
  transaction<T>(fn: (crm: CrmStore) => Promise<T>): Promise<T>;
}

export function crmStore(store: Store): CrmStore {
  const db = store.typed<CrmTables>();
  // PostgreSQL: concurrent get_contact reads share one statement (contact-batch.ts); SQLite reads in-process.
  const batched = store.dialect === 'postgres' ? contactReadBatcher(db, DEAL_COLUMNS) : undefined;
  return crmStoreOn(db, compileHotQueries(db), batched);
}

const DEAL_COLUMNS = ['id', 'workspace_id', 'contact_id', 'title', 'amount_cents', 'currency', 'stage', 'expected_close', 'search_text', 'created_at', 'updated_at', 'stage_changed_at'] as const;

/**
 * The reads behind `get_contact`, compiled once (parameters filled in per call): tool calls are the hot path,
 * and building and compiling a query costs more than SQLite takes to answer it.
 */
function compileHotQueries(db: Kysely<CrmTables>) {
  const dealsOfContact = new Map<number, PreparedQuery<CrmDealsTable>>();
  const contactWithDeals = new Map<number, PreparedQuery<CrmContactsTable & Record<`d_${(typeof DEAL_COLUMNS)[number]}`, unknown>>>();
  return {
    /**
     * The contact, left-joined with its first `limit` deals: one row per deal (one row with null deal columns when
     * it has none), so that `get_contact` is one round trip. Same order and limit as dealsOfContact.
     */
    contactWithDeals(limit: number) {
      let q = contactWithDeals.get(limit);
      if (!q) {
        q = prepareQuery((slot) => {
          const deals = db
            .selectFrom('crm_deals')
            .selectAll()
            .where('workspace_id', '=', slot(0) as string)
            .where('contact_id', '=', slot(1) as string)
            .orderBy('updated_at', 'desc')
            .orderBy('id')
            .limit(sql.lit(limit));
          return db
            .selectFrom('crm_contacts as c')
            .leftJoin(deals.as('d'), (join) => join.onTrue())
            .selectAll('c')
            .select(DEAL_COLUMNS.map((col) => sql.ref(`d.${col}`).as(`d_${col}`)))
            .where('c.workspace_id', '=', slot(0) as string)
            .where('c.id', '=', slot(1) as string)
            .orderBy('d.updated_at', 'desc')
            .orderBy('d.id') as never;
        });
        contactWithDeals.set(limit, q);
      }
      return q;
    },
    contactById: prepareQuery((slot) => db.selectFrom('crm_contacts').selectAll().where('workspace_id', '=', slot(0) as string).where('id', '=', slot(1) as string)),
    /**
     * A contact's deals, first page. The limit is written into the SQL (one statement per page size, 1–101): SQLite
     * runs ORDER BY with a literal LIMIT several times faster than with a bound one.
     */
    dealsOfContact(limit: number): PreparedQuery<CrmDealsTable> {
      let q = dealsOfContact.get(limit);
      if (!q) {
        q = prepareQuery((slot) =>
          db.selectFrom('crm_deals').selectAll().where('workspace_id', '=', slot(0) as string).where('contact_id', '=', slot(1) as string).orderBy('updated_at', 'desc').orderBy('id').limit(sql.lit(limit)),
        );
        dealsOfContact.set(limit, q);
      }
      return q;
    },
  };
}

function crmStoreOn(db: Kysely<CrmTables>, hot: ReturnType<typeof compileHotQueries>, batched?: ReturnType<typeof contactReadBatcher>): CrmStore {
  /** Runs `fn` in a transaction (or in the current one). */
  const atomically = <T>(fn: (trx: Kysely<CrmTables>) => Promise<T>): Promise<T> => (db.isTransaction ? fn(db) : db.transaction().execute(fn));
  const like = (column: 'search_text', pattern: string) => sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;

  return {
    async searchContacts(workspaceId: string, q: { query?: string; company?: string; limit: number; offset: number }): Promise<{ contacts: Contact[]; hasMore: boolean }> {
      let query = db.selectFrom('crm_contacts').selectAll().where('workspace_id', '=', workspaceId);
      if (q.query) query = query.where(like('search_text', containsPattern(q.query)));
      if (q.company) query = query.where(sql<boolean>`lower(company) = ${q.company.toLowerCase()}`);
      const rows = await query.orderBy('name').orderBy('id').limit(q.limit + 1).offset(q.offset).execute();
      return { contacts: rows.slice(0, q.limit).map(toContact), hasMore: rows.length > q.limit };
    },

    async getContact(workspaceId: string, id: string): Promise<Contact | undefined> {
      const { rows } = await db.executeQuery(hot.contactById([workspaceId, id]));
      return rows.length ? toContact(rows[0]) : undefined;
    },

    async getContactWithDeals(workspaceId: string, id: string, limit: number): Promise<{ contact: Contact; deals: Deal[] } | undefined> {
      type Row = CrmContactsTable & Record<string, unknown>;
      const rows = (batched ? await batched(workspaceId, id, limit) : (await db.executeQuery(hot.contactWithDeals(limit)([workspaceId, id]))).rows) as Row[];
      if (!rows.length) return undefined;
      const deals: Deal[] = [];
      for (const r of rows) {
        if (r.d_id === null) continue;
        const deal = {} as Record<string, unknown>;
        for (const col of DEAL_COLUMNS) deal[col] = r[`d_${col}`];
        deals.push(toDeal(deal as unknown as CrmDealsTable));
      }
      return { contact: toContact(rows[0]), deals };
    },

    async findContactByEmail(workspaceId: string, email: string): Promise<Contact | undefined> {
      const r = await db.selectFrom('crm_contacts').selectAll().where('workspace_id', '=', workspaceId).where('email', '=', normalizeEmail(email)).executeTakeFirst();
      return r && toContact(r);
    },

    async createContact(workspaceId: string, input: ContactInput, at = Date.now()): Promise<Contact> {
      const row: CrmContactsTable = {
        id: crmId('ct'),
        workspace_id: workspaceId,
        name: input.name.trim(),
        email: normalizeEmail(input.email),
        company: input.company?.trim() || null,
        title: input.title?.trim() || null,
        phone: input.phone?.trim() || null,
        notes: input.notes?.trim() || null,
        search_text: '',
        created_at: at,
        updated_at: at,
      };
      row.search_text = contactSearchText(row);
      await db.insertInto('crm_contacts').values(row).execute();
      return toContact(row);
    },

    /** Applies the given fields (null clears an optional one); undefined when there is no such contact here. */
    async updateContact(workspaceId: string, id: string, patch: Partial<ContactInput>): Promise<Contact | undefined> {
      return atomically(async (trx) => {
        const current = await trx.selectFrom('crm_contacts').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
        if (!current) return undefined;
        const next: CrmContactsTable = { ...current };
        if (patch.name !== undefined && patch.name !== null) next.name = patch.name.trim();
        if (patch.email !== undefined) next.email = normalizeEmail(patch.email);
        for (const key of ['company', 'title', 'phone', 'notes'] as const) {
          if (patch[key] !== undefined) next[key] = patch[key]?.trim() || null;
        }
        next.search_text = contactSearchText(next);
        next.updated_at = Date.now();
        await trx
          .updateTable('crm_contacts')
          .set({ name: next.name, email: next.email, company: next.company, title: next.title, phone: next.phone, notes: next.notes, search_text: next.search_text, updated_at: next.updated_at })
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', id)
          .execute();
        return toContact(next);
      });
    },

    async searchDeals(workspaceId: string, q: { query?: string; stage?: Stage; contactId?: string; minAmountCents?: number; limit: number; offset: number }): Promise<{ deals: Deal[]; hasMore: boolean }> {
      if (q.contactId && !q.query && !q.stage && q.minAmountCents === undefined && q.offset === 0 && Number.isInteger(q.limit) && q.limit >= 0 && q.limit <= 100) {
        const { rows } = await db.executeQuery(hot.dealsOfContact(q.limit + 1)([workspaceId, q.contactId]));
        return { deals: rows.slice(0, q.limit).map(toDeal), hasMore: rows.length > q.limit };
      }
      let query = db.selectFrom('crm_deals').selectAll().where('workspace_id', '=', workspaceId);
      if (q.query) query = query.where(like('search_text', containsPattern(q.query)));
      if (q.stage) query = query.where('stage', '=', q.stage);
      if (q.contactId) query = query.where('contact_id', '=', q.contactId);
      if (q.minAmountCents !== undefined) query = query.where('amount_cents', '>=', q.minAmountCents);
      const rows = await query.orderBy('updated_at', 'desc').orderBy('id').limit(q.limit + 1).offset(q.offset).execute();
      return { deals: rows.slice(0, q.limit).map(toDeal), hasMore: rows.length > q.limit };
    },

    async getDeal(workspaceId: string, id: string): Promise<Deal | undefined> {
      const r = await db.selectFrom('crm_deals').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
      return r && toDeal(r);
    },

    async createDeal(workspaceId: string, input: DealInput, at = Date.now()): Promise<Deal> {
      const row: CrmDealsTable = {
        id: crmId('dl'),
        workspace_id: workspaceId,
        contact_id: input.contactId ?? null,
        title: input.title.trim(),
        amount_cents: input.amountCents,
        currency: input.currency,
        stage: input.stage,
        expected_close: input.expectedClose ?? null,
        search_text: dealSearchText(input.title.trim()),
        created_at: at,
        updated_at: at,
        stage_changed_at: at,
      };
      await db.insertInto('crm_deals').values(row).execute();
      return toDeal(row);
    },

    /** Moves a deal to a stage; undefined when there is no such deal here. */
    async moveDealStage(workspaceId: string, id: string, stage: Stage): Promise<{ deal: Deal; previousStage: Stage } | undefined> {
      return atomically(async (trx) => {
        const current = await trx.selectFrom('crm_deals').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
        if (!current) return undefined;
        const now = Date.now();
        const changed = current.stage !== stage;
        const next: CrmDealsTable = { ...current, stage, updated_at: now, stage_changed_at: changed ? now : current.stage_changed_at };
        await trx.updateTable('crm_deals').set({ stage, updated_at: now, stage_changed_at: next.stage_changed_at }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
        return { deal: toDeal(next), previousStage: current.stage as Stage };
      });
    },

    /** Deal count and total per stage and currency. */
    async stageTotals(workspaceId: string): Promise<StageTotal[]> {
      const rows = await db
        .selectFrom('crm_deals')
        .select(['stage', 'currency'])
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('amount_cents').as('total')])
        .where('workspace_id', '=', workspaceId)
        .groupBy(['stage', 'currency'])
        .execute();
      return rows.map((r) => ({ stage: r.stage as Stage, currency: r.currency, count: Number(r.n), amountCents: Number(r.total ?? 0) }));
    },

    /** Runs `fn` with a store whose writes commit together, or not at all. */
    transaction(fn) {
      return atomically((trx) => fn(crmStoreOn(trx, hot)));
    },

    async countContacts(workspaceId: string): Promise<number> {
      const r = await db.selectFrom('crm_contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow();
      return Number(r.n);
    },
  };
}

