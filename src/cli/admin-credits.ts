// `tollgate admin credits …`: operators grant credits, assign plans and read a workspace's balance and ledger.
import { UsageError, type Command } from './command.ts';
import { requireWorkspace, withServices } from './context.ts';
import { cliAuditContext } from './audit-context.ts';

const n = (x: number) => x.toLocaleString('en-US');

function grantCommand(verb: 'grant' | 'deduct', summary: string): Command {
  return {
    path: ['admin', 'credits', verb],
    summary,
    args: '<workspace> <amount> --reason <text>',
    positionals: 2,
    options: { reason: { type: 'string' } },
    async run({ values, positionals }, io) {
      const [slug, amountText] = positionals;
      if (!/^\d{1,13}$/.test(amountText) || Number(amountText) === 0) throw new UsageError(`amount must be a positive whole number, not "${amountText.slice(0, 20)}"`);
      const reason = (values.reason as string | undefined)?.trim();
      if (!reason) throw new UsageError('--reason is required (it is recorded in the ledger)');
      const amount = Number(amountText);
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, slug);
        const { balance, ledgerId } =
          verb === 'grant'
            ? await s.credits.grantCredits({ workspaceId: ws.id, amount, reason: 'grant', description: reason }, cliAuditContext('admin credits grant'))
            : await s.credits.grantCredits({ workspaceId: ws.id, amount: -amount, reason: 'adjustment', description: reason }, cliAuditContext('admin credits deduct'));
        io.out(`${verb === 'grant' ? 'Granted' : 'Deducted'} ${n(amount)} credits ${verb === 'grant' ? 'to' : 'from'} ${ws.slug} (ledger #${ledgerId}). Balance: ${n(balance)}.`);
      });
    },
  };
}

export const creditCommands: Command[] = [
  grantCommand('grant', 'Add credits to a workspace; the reason is recorded in the ledger.'),
  grantCommand('deduct', 'Remove credits from a workspace (never below zero); the reason is recorded in the ledger.'),
  {
    path: ['admin', 'credits', 'show'],
    summary: 'Show a workspace\'s balance, plan, spend and latest ledger rows.',
    args: '<workspace> [--limit <rows>]',
    positionals: 1,
    options: { limit: { type: 'string', default: '10' } },
    async run({ values, positionals }, io) {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 0 || limit > 500) throw new UsageError('--limit must be a whole number from 0 to 500');
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, positionals[0]);
        const [account, plan, spend, sum] = await Promise.all([s.credits.getAccount(ws.id), s.credits.planInfo(ws.id), s.credits.spendSummary(ws.id), s.credits.sumLedger(ws.id)]);
        io.out(`Workspace:  ${ws.slug}`);
        io.out(`Balance:    ${n(account.balance)} credits${sum === account.balance ? '' : `  (LEDGER SUM ${n(sum)} DIFFERS)`}`);
        io.out(`Plan:       ${plan.name} (${n(plan.workspacePerMinute)} calls/min per workspace, ${n(plan.grantPerMinute)} per grant)`);
        io.out(`Spent:      ${n(spend.last24h)} in the last 24 h, ${n(spend.last30d)} in the last 30 days`);
        if (limit === 0) return;
        const page = await s.credits.listLedger(ws.id, { limit });
        if (!page.entries.length) {
          io.out('\nNo ledger rows yet.');
          return;
        }
        const rows = [['#', 'TIME (UTC)', 'AMOUNT', 'BALANCE', 'REASON', 'DETAIL']];
        for (const e of page.entries) {
          const detail = [e.tool, e.description, e.requestId ? `req ${e.requestId}` : ''].filter(Boolean).join(' · ');
          rows.push([String(e.id), new Date(e.createdAt).toISOString().slice(0, 19).replace('T', ' '), (e.amount > 0 ? '+' : '') + n(e.amount), n(e.balanceAfter), e.reason, detail]);
        }
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        io.out(`\nLatest ${page.entries.length} ledger rows:`);
        for (const r of rows) io.out(r.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
      });
    },
  },
  {
    path: ['admin', 'credits', 'plan'],
    summary: 'Put a workspace on a plan (rate limits); without a plan, list the configured plans.',
    args: '<workspace> [<plan>]',
    positionals: [1, 2],
    async run({ positionals }, io) {
      await withServices(io, async (s) => {
        const ws = await requireWorkspace(s, positionals[0]);
        if (positionals.length === 1) {
          const current = await s.credits.planInfo(ws.id);
          for (const p of await s.credits.listPlans()) {
            io.out(`${p.name === current.name ? '*' : ' '} ${p.name}: ${n(p.workspacePerMinute)} calls/min per workspace, ${n(p.grantPerMinute)} per grant`);
          }
          return;
        }
        const plan = await s.credits.setPlan(ws.id, positionals[1], cliAuditContext('admin credits plan'));
        io.out(`${ws.slug} is now on plan ${plan.name} (${n(plan.workspacePerMinute)} calls/min per workspace, ${n(plan.grantPerMinute)} per grant).`);
      });
    },
  },
];
