// Issue: credits §6 — `tollgate admin credits grant | deduct | show | plan` on the configured database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.ts';

// Fourteen CLI runs: alone about 5 s, in the full suite on two busy cores up to a minute (seen 57 s; each run is
// guarded by its own 30 s limit in runCli), so the test's own limit leaves room for a slow machine.
test('operators grant, deduct and inspect credits and plans; balance = sum of ledger is shown', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-credits-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_INITIAL_CREDITS: '1000', TOLLGATE_RATE_PLANS: 'pro:600/120' };
  try {
    assert.equal((await runCli(['migrate'], { env })).code, 0);
    assert.equal((await runCli(['admin', 'workspace', 'create', 'acme'], { env })).code, 0);

    const grant = await runCli(['admin', 'credits', 'grant', 'acme', '500', '--reason', 'Invoice 42 paid by wire'], { env });
    assert.equal(grant.code, 0, grant.stderr);
    assert.match(grant.stdout, /Granted 500 credits to acme \(ledger #\d+\)\. Balance: 1,500\./);

    const deduct = await runCli(['admin', 'credits', 'deduct', 'acme', '200', '--reason', 'chargeback'], { env });
    assert.equal(deduct.code, 0, deduct.stderr);
    assert.match(deduct.stdout, /Balance: 1,300\./);
    const tooMuch = await runCli(['admin', 'credits', 'deduct', 'acme', '5000', '--reason', 'oops'], { env });
    assert.equal(tooMuch.code, 1);
    assert.match(tooMuch.stderr, /below zero/);

    const plan = await runCli(['admin', 'credits', 'plan', 'acme', 'pro'], { env });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /acme is now on plan pro \(600 calls\/min per workspace, 120 per grant\)/);

    const show = await runCli(['admin', 'credits', 'show', 'acme'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Balance: +1,300 credits\n/);
    assert.doesNotMatch(show.stdout, /DIFFERS/);
    assert.match(show.stdout, /Plan: +pro/);
    assert.match(show.stdout, /-200 .* adjustment +chargeback/);
    assert.match(show.stdout, /\+500 .* grant +Invoice 42 paid by wire/);
    assert.match(show.stdout, /\+1,000 .* initial/);

    const plans = await runCli(['admin', 'credits', 'plan', 'acme'], { env });
    assert.match(plans.stdout, /^ {2}default: 60 calls\/min/m);
    assert.match(plans.stdout, /^\* pro: 600 calls\/min/m);

    for (const [args, pattern, code] of [
      [['admin', 'credits', 'grant', 'acme', '500'], /--reason is required/, 2],
      [['admin', 'credits', 'grant', 'nowhere', '5', '--reason', 'x'], /Workspace "nowhere" not found/, 1],
      [['admin', 'credits', 'plan', 'acme', 'gold'], /No plan named "gold"/, 1],
    ] as const) {
      const r = await runCli([...args], { env });
      assert.equal(r.code, code, args.join(' '));
      assert.match(r.stderr, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
