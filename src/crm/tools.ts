// The demo CRM toolset: contacts and deals on each workspace's own data. Reads cost 1 credit, writes 2–3.
//
// Output schemas leave their top-level fields optional on purpose: an out-of-credits answer carries
// `{ error, balance, cost }` as structured content, and some clients (SDK v1) validate structured content against
// the output schema even on error results.
import { structuredResult, ToolError, type ToolDefinition, type ToolResult } from '../tools/tool-types.ts';
import { OPEN_STAGES, STAGE_PROBABILITY, STAGES, type CrmStore, type Stage } from './store.ts';

const ok = (structuredContent: Record<string, unknown>): ToolResult => structuredResult(structuredContent);

const nullableString = (maxLength: number, description: string) => ({ type: ['string', 'null'], maxLength, description });

const contactSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    email: { type: ['string', 'null'] },
    company: { type: ['string', 'null'] },
    title: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    notes: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name'],
};

const dealSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    amount: { type: 'number', description: 'In currency units (e.g. 1250.5 USD).' },
    currency: { type: 'string' },
    stage: { type: 'string', enum: [...STAGES] },
    contactId: { type: ['string', 'null'] },
    expectedClose: { type: ['string', 'null'], format: 'date' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    stageChangedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'title', 'amount', 'currency', 'stage'],
};

const paging = {
  limit: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'How many to return (1–100, default 20).' },
  offset: { type: 'integer', minimum: 0, maximum: 100000, default: 0, description: 'How many to skip, for the next page.' },
};

/** The output schema of a paged list: the items under `key`, whether there are more, and where the next page starts. */
const pagedOutput = (key: string, items: Record<string, unknown>) => ({
  type: 'object',
  properties: { [key]: { type: 'array', items }, hasMore: { type: 'boolean' }, nextOffset: { type: 'integer' } },
});

/** A page of a list, as `pagedOutput` describes it (`nextOffset` only when there is a next page). */
const page = (key: string, items: unknown[], hasMore: boolean, args: Record<string, unknown>): ToolResult => {
  const offset = args.offset as number;
  const limit = args.limit as number;
  return ok(hasMore ? { [key]: items, hasMore, nextOffset: offset + limit } : { [key]: items, hasMore });
};

const contactId = { type: 'string', pattern: '^ct_[a-z0-9]{4,36}$', description: 'A contact id, e.g. ct_k3v9x2m7q4aa.' };
const dealId = { type: 'string', pattern: '^dl_[a-z0-9]{4,36}$', description: 'A deal id, e.g. dl_p8w2n5c7r3bb.' };

const toCents = (amount: number): number => Math.round(amount * 100);

export function crmTools(crm: CrmStore): ToolDefinition[] {
  const noContact = (id: string) => new ToolError(`No contact with id ${id} in this workspace. Use search_contacts to find contacts.`);

  async function requireContact(workspaceId: string, id: string) {
    const contact = await crm.getContact(workspaceId, id);
    if (!contact) throw noContact(id);
    return contact;
  }

  async function assertEmailFree(workspaceId: string, email: string | null | undefined, exceptId?: string) {
    if (!email) return;
    const existing = await crm.findContactByEmail(workspaceId, email);
    if (existing && existing.id !== exceptId) throw new ToolError(`A contact with the email ${email} already exists: ${existing.name} (${existing.id}).`);
  }

  return [
    {
      name: 'search_contacts',
      title: 'Search contacts',
      description: 'Find contacts in the CRM by name, email, company or job title. Returns up to `limit` contacts sorted by name; use `offset` for more.',
      scope: 'mcp:read',
      cost: 1,
      annotations: { readOnlyHint: true, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', maxLength: 200, description: 'Text to look for in name, email, company or title (case-insensitive).' },
          company: { type: 'string', maxLength: 200, description: 'Only contacts at exactly this company (case-insensitive).' },
          ...paging,
        },
        additionalProperties: false,
      },
      outputSchema: pagedOutput('contacts', contactSchema),
      async handler(args, ctx) {
        const { contacts, hasMore } = await crm.searchContacts(ctx.workspaceId, {
          query: args.query as string | undefined,
          company: args.company as string | undefined,
          limit: args.limit as number,
          offset: args.offset as number,
        });
        return page('contacts', contacts, hasMore, args);
      },
    },
    {
      name: 'get_contact',
      title: 'Get a contact',
      description: 'One contact by id, with their deals.',
      scope: 'mcp:read',
      cost: 1,
      annotations: { readOnlyHint: true, openWorldHint: false },
      inputSchema: { type: 'object', properties: { id: contactId }, required: ['id'], additionalProperties: false },
      outputSchema: { type: 'object', properties: { contact: contactSchema, deals: { type: 'array', items: dealSchema } } },
      async handler(args, ctx) {
        // One round trip: the contact with its deals.
        const found = await crm.getContactWithDeals(ctx.workspaceId, args.id as string, 100);
        if (!found) throw noContact(args.id as string);
        return ok({ contact: found.contact, deals: found.deals });
      },
    },
    {
      name: 'create_contact',
      title: 'Create a contact',
      description: 'Add a contact to the CRM. The email, when given, must not belong to another contact.',
      scope: 'mcp:write',
      cost: 3,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, description: 'Full name.' },
          email: { type: 'string', format: 'email', maxLength: 320 },
          company: { type: 'string', maxLength: 200 },
          title: { type: 'string', maxLength: 200, description: 'Job title.' },
          phone: { type: 'string', maxLength: 50 },
          notes: { type: 'string', maxLength: 4000 },
        },
        required: ['name'],
        additionalProperties: false,
      },
      outputSchema: { type: 'object', properties: { contact: contactSchema } },
      async handler(args, ctx) {
        await assertEmailFree(ctx.workspaceId, args.email as string | undefined);
        const contact = await crm.createContact(ctx.workspaceId, args as { name: string });
        return ok({ contact });
      },
    },
    {
      name: 'update_contact',
      title: 'Update a contact',
      description: 'Change fields of a contact. Give the id and only the fields to change; null clears an optional field.',
      scope: 'mcp:write',
      cost: 2,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: {
          id: contactId,
          name: { type: 'string', minLength: 1, maxLength: 200 },
          email: { anyOf: [{ type: 'string', format: 'email', maxLength: 320 }, { type: 'null' }] },
          company: nullableString(200, 'Company name.'),
          title: nullableString(200, 'Job title.'),
          phone: nullableString(50, 'Phone number.'),
          notes: nullableString(4000, 'Free-form notes.'),
        },
        required: ['id'],
        minProperties: 2,
        additionalProperties: false,
      },
      outputSchema: { type: 'object', properties: { contact: contactSchema } },
      async handler(args, ctx) {
        const id = args.id as string;
        await requireContact(ctx.workspaceId, id);
        await assertEmailFree(ctx.workspaceId, args.email as string | null | undefined, id);
        const { id: _id, ...patch } = args;
        const contact = await crm.updateContact(ctx.workspaceId, id, patch);
        if (!contact) throw new ToolError(`No contact with id ${id} in this workspace.`);
        return ok({ contact });
      },
    },
    {
      name: 'search_deals',
      title: 'Search deals',
      description: 'List deals, most recently updated first, optionally filtered by stage, contact, minimum amount or text in the title.',
      scope: 'mcp:read',
      cost: 1,
      annotations: { readOnlyHint: true, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', maxLength: 200, description: 'Text to look for in the deal title (case-insensitive).' },
          stage: { type: 'string', enum: [...STAGES] },
          contactId,
          minAmount: { type: 'number', minimum: 0, description: 'Only deals worth at least this much (currency units).' },
          ...paging,
        },
        additionalProperties: false,
      },
      outputSchema: pagedOutput('deals', dealSchema),
      async handler(args, ctx) {
        const { deals, hasMore } = await crm.searchDeals(ctx.workspaceId, {
          query: args.query as string | undefined,
          stage: args.stage as Stage | undefined,
          contactId: args.contactId as string | undefined,
          minAmountCents: args.minAmount === undefined ? undefined : toCents(args.minAmount as number),
          limit: args.limit as number,
          offset: args.offset as number,
        });
        return page('deals', deals, hasMore, args);
      },
    },
    {
      name: 'get_deal',
      title: 'Get a deal',
      description: 'One deal by id, with its contact.',
      scope: 'mcp:read',
      cost: 1,
      annotations: { readOnlyHint: true, openWorldHint: false },
      inputSchema: { type: 'object', properties: { id: dealId }, required: ['id'], additionalProperties: false },
      outputSchema: { type: 'object', properties: { deal: dealSchema, contact: { anyOf: [contactSchema, { type: 'null' }] } } },
      async handler(args, ctx) {
        const deal = await crm.getDeal(ctx.workspaceId, args.id as string);
        if (!deal) throw new ToolError(`No deal with id ${String(args.id)} in this workspace. Use search_deals to find deals.`);
        const contact = deal.contactId ? ((await crm.getContact(ctx.workspaceId, deal.contactId)) ?? null) : null;
        return ok({ deal, contact });
      },
    },
    {
      name: 'create_deal',
      title: 'Create a deal',
      description: `Open a deal in the pipeline. Stages: ${STAGES.join(', ')} (default lead).`,
      scope: 'mcp:write',
      cost: 3,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: {
          title: { type: 'string', minLength: 1, maxLength: 200 },
          amount: { type: 'number', minimum: 0, maximum: 1e12, description: 'Value in currency units, e.g. 12500 or 99.95.' },
          currency: { type: 'string', pattern: '^[A-Z]{3}$', default: 'USD', description: 'ISO 4217 code (default USD).' },
          stage: { type: 'string', enum: [...STAGES], default: 'lead' },
          contactId,
          expectedClose: { type: 'string', format: 'date', description: 'Expected close date, YYYY-MM-DD.' },
        },
        required: ['title', 'amount'],
        additionalProperties: false,
      },
      outputSchema: { type: 'object', properties: { deal: dealSchema } },
      async handler(args, ctx) {
        if (args.contactId !== undefined) await requireContact(ctx.workspaceId, args.contactId as string);
        const deal = await crm.createDeal(ctx.workspaceId, {
          title: args.title as string,
          amountCents: toCents(args.amount as number),
          currency: args.currency as string,
          stage: args.stage as Stage,
          contactId: (args.contactId as string | undefined) ?? null,
          expectedClose: (args.expectedClose as string | undefined) ?? null,
        });
        return ok({ deal });
      },
    },
    {
      name: 'move_deal_stage',
      title: 'Move a deal to another stage',
      description: `Move a deal along the pipeline (${STAGES.join(' → ')}); won and lost close it, and a closed deal can be reopened.`,
      scope: 'mcp:write',
      cost: 2,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      inputSchema: {
        type: 'object',
        properties: { id: dealId, stage: { type: 'string', enum: [...STAGES] } },
        required: ['id', 'stage'],
        additionalProperties: false,
      },
      outputSchema: { type: 'object', properties: { deal: dealSchema, previousStage: { type: 'string', enum: [...STAGES] } } },
      async handler(args, ctx) {
        const moved = await crm.moveDealStage(ctx.workspaceId, args.id as string, args.stage as Stage);
        if (!moved) throw new ToolError(`No deal with id ${String(args.id)} in this workspace. Use search_deals to find deals.`);
        return ok({ deal: moved.deal, previousStage: moved.previousStage });
      },
    },
    {
      name: 'pipeline_summary',
      title: 'Pipeline summary',
      description: 'Deals per stage with their totals, the open pipeline, a probability-weighted forecast, and won and lost totals, per currency.',
      scope: 'mcp:read',
      cost: 2,
      annotations: { readOnlyHint: true, openWorldHint: false },
      inputSchema: { type: 'object', properties: {}, additionalProperties: false },
      outputSchema: {
        type: 'object',
        properties: {
          currencies: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                currency: { type: 'string' },
                stages: {
                  type: 'array',
                  items: { type: 'object', properties: { stage: { type: 'string' }, count: { type: 'integer' }, amount: { type: 'number' } }, required: ['stage', 'count', 'amount'] },
                },
                openCount: { type: 'integer' },
                openAmount: { type: 'number' },
                weightedForecast: { type: 'number' },
                wonAmount: { type: 'number' },
                lostAmount: { type: 'number' },
              },
              required: ['currency', 'stages', 'openCount', 'openAmount', 'weightedForecast', 'wonAmount', 'lostAmount'],
            },
          },
          contacts: { type: 'integer' },
        },
      },
      async handler(_args, ctx) {
        const totals = await crm.stageTotals(ctx.workspaceId);
        const currencies = [...new Set(totals.map((t) => t.currency))].sort();
        const summary = currencies.map((currency) => {
          const of = (stage: Stage) => totals.find((t) => t.currency === currency && t.stage === stage) ?? { count: 0, amountCents: 0 };
          const stages = STAGES.map((stage) => ({ stage, count: of(stage).count, amount: of(stage).amountCents / 100 }));
          const open = OPEN_STAGES.map(of);
          return {
            currency,
            stages,
            openCount: open.reduce((n, s) => n + s.count, 0),
            openAmount: open.reduce((n, s) => n + s.amountCents, 0) / 100,
            weightedForecast: Math.round(OPEN_STAGES.reduce((n, stage) => n + of(stage).amountCents * STAGE_PROBABILITY[stage], 0)) / 100,
            wonAmount: of('won').amountCents / 100,
            lostAmount: of('lost').amountCents / 100,
          };
        });
        return ok({ currencies: summary, contacts: await crm.countContacts(ctx.workspaceId) });
      },
    },
  ];
}
