// Plans and per-tool prices, as data: deployment-wide (keys for every workspace), plus a workspace's plan.
import { CreditsError, MAX_TOOL_PRICE } from '../../credits/index.ts';
import type { ApiDeps } from '../deps.ts';
import { define, type Operation } from '../operation.ts';
import { pageByKey } from '../paging.ts';
import { ApiProblem } from '../problem.ts';
import { pageOf, PAGING_QUERY, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { planView } from '../views.ts';

const PLAN_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' };
const TOOL_NAME = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' };
const LIMIT = { type: 'integer', minimum: 1, maximum: 10_000_000 };

export function pricingOperations(deps: ApiDeps): Operation[] {
  const { credits } = deps;
  const asProblem = (err: unknown): never => {
    if (err instanceof CreditsError) throw new ApiProblem(err.code === 'unknown_plan' ? 'not_found' : 'invalid_request', err.message);
    throw err;
  };
  async function priceList() {
    const overrides = new Map((await credits.listPrices()).map((p) => [p.tool, p]));
    const names = [...new Set([...deps.tools.map((t) => t.name), ...overrides.keys()])].sort();
    return names.map((name) => {
      const tool = deps.tools.find((t) => t.name === name);
      const o = overrides.get(name);
      return { tool: name, cost: o ? o.cost : tool!.cost, default_cost: tool ? tool.cost : null, overridden: Boolean(o) };
    });
  }

  return [
    define({
      operationId: 'listPlans',
      method: 'get',
      path: '/plans',
      tag: 'Plans and prices',
      summary: 'Every plan: the configured ones, overridden or added to through the API, CLI or admin page',
      access: 'read',
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of plans', schema: pageOf('Plan') },
      async handle({ query }) {
        const page = pageByKey(await credits.listPlans(), (p) => p.name, query.limit as number, query.cursor as string | undefined);
        return { status: 200, body: { data: page.items.map(planView), next_cursor: page.next_cursor } };
      },
    }),
    define({
      operationId: 'putPlan',
      method: 'put',
      path: '/plans/{plan}',
      tag: 'Plans and prices',
      summary: "Create a plan or change its limits (calls per minute, per workspace and per grant)",
      access: 'write',
      deploymentKeyOnly: true,
      params: { plan: PLAN_NAME },
      body: { type: 'object', additionalProperties: false, required: ['workspace_per_minute'], properties: { workspace_per_minute: LIMIT, grant_per_minute: LIMIT } },
      response: { status: 200, description: 'The plan', schema: ref('Plan') },
      async handle({ params, body, audit }) {
        const plan = await credits.upsertPlan({ name: params.plan, workspacePerMinute: body.workspace_per_minute, grantPerMinute: body.grant_per_minute ?? body.workspace_per_minute }, audit).catch(asProblem);
        // plan.defined (before and after) is recorded in the credits module's transaction (catalog.ts).
        return { status: 200, body: planView(plan) };
      },
    }),
    define({
      operationId: 'deletePlan',
      method: 'delete',
      path: '/plans/{plan}',
      tag: 'Plans and prices',
      summary: 'Delete a plan set as data (a configured plan it overrode comes back); its workspaces fall back to `default`',
      access: 'write',
      deploymentKeyOnly: true,
      params: { plan: PLAN_NAME },
      response: { status: 200, description: 'The plan as it was', schema: ref('Plan') },
      async handle({ params, audit }) {
        const before = await credits.getPlan(params.plan);
        if (!before) throw new ApiProblem('not_found', `No plan named "${params.plan}"`);
        await credits.deletePlan(params.plan, audit).catch(asProblem);
        return { status: 200, body: planView(before) };
      },
    }),
    define({
      operationId: 'setWorkspacePlan',
      method: 'put',
      path: '/workspaces/{workspace}/plan',
      tag: 'Plans and prices',
      summary: "Put a workspace on a plan (its rate limits change within seconds in every process)",
      access: 'write',
      deploymentKeyOnly: true,
      params: { workspace: WORKSPACE_SLUG_SCHEMA },
      body: { type: 'object', additionalProperties: false, required: ['plan'], properties: { plan: PLAN_NAME } },
      response: { status: 200, description: "The workspace's plan", schema: ref('WorkspacePlan') },
      async handle({ workspace, body, audit }) {
        await credits.setPlan(workspace.id, body.plan, audit).catch(asProblem);
        return { status: 200, body: { workspace: workspace.slug, plan: planView((await credits.getPlan(body.plan))!) } };
      },
    }),
    define({
      operationId: 'listPrices',
      method: 'get',
      path: '/prices',
      tag: 'Plans and prices',
      summary: "Every tool's price: its own cost, or the override set as data",
      access: 'read',
      query: { type: 'object', additionalProperties: false, properties: { ...PAGING_QUERY } },
      response: { status: 200, description: 'A page of prices', schema: pageOf('Price') },
      async handle({ query }) {
        const page = pageByKey(await priceList(), (p) => p.tool, query.limit as number, query.cursor as string | undefined);
        return { status: 200, body: { data: page.items, next_cursor: page.next_cursor } };
      },
    }),
    define({
      operationId: 'putPrice',
      method: 'put',
      path: '/prices/{tool}',
      tag: 'Plans and prices',
      summary: 'Set what a call of a tool costs (0 makes it free)',
      access: 'write',
      deploymentKeyOnly: true,
      params: { tool: TOOL_NAME },
      body: { type: 'object', additionalProperties: false, required: ['cost'], properties: { cost: { type: 'integer', minimum: 0, maximum: MAX_TOOL_PRICE } } },
      response: { status: 200, description: 'The price', schema: ref('Price') },
      async handle({ params, body, audit }) {
        await credits.setPrice(params.tool, body.cost, audit).catch(asProblem);
        return { status: 200, body: (await priceList()).find((p) => p.tool === params.tool)! };
      },
    }),
    define({
      operationId: 'deletePrice',
      method: 'delete',
      path: '/prices/{tool}',
      tag: 'Plans and prices',
      summary: "Drop a price override: the tool costs its own price again",
      access: 'write',
      deploymentKeyOnly: true,
      params: { tool: TOOL_NAME },
      response: { status: 200, description: 'The price now', schema: ref('Price') },
      async handle({ params, audit }) {
        if (!(await credits.clearPrice(params.tool, audit))) throw new ApiProblem('not_found', `No price override for "${params.tool}"`);
        const now = (await priceList()).find((p) => p.tool === params.tool);
        return { status: 200, body: now ?? { tool: params.tool, cost: 0, default_cost: null, overridden: false } };
      },
    }),
  ];
}
