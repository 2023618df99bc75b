// Issue 19 §2 and §3 — `tollgate admin api-keys create | list | revoke`, `tollgate admin prices …` and
// `tollgate admin plans …` on the configured database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.ts';

test('operators create, list and revoke API keys, and set prices and plans as data', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-api-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_RATE_PLANS: 'pro:600/120' };
  const cli = async (...args: string[]) => {
    const r = await runCli(args, { env });
    return { ...r, out: r.stdout + r.stderr };
  };
  try {
    assert.equal((await cli('migrate')).code, 0);
    assert.equal((await cli('admin', 'workspace', 'create', 'acme')).code, 0);

    const created = await cli('admin', 'api-keys', 'create', 'billing backend', '--access', 'write', '--workspace', 'acme', '--expires-in', '90d');
    assert.equal(created.code, 0, created.out);
    const secret = /^(tgk_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    assert.ok(secret, created.stdout);
    const id = secret.slice(4, 20);
    assert.match(created.stdout, new RegExp(`Created API key ${id} \\(write, workspace acme, expires \\d{4}-`));

    const listed = await cli('admin', 'api-keys', 'list');
    assert.equal(listed.code, 0, listed.out);
    assert.match(listed.stdout, new RegExp(`${id}\\s+write\\s+acme\\s+live .*billing backend`));
    assert.ok(!listed.stdout.includes(secret.slice(21)), 'the secret is never listed');

    assert.equal((await cli('admin', 'api-keys', 'create', 'x', '--access', 'admin')).code, 2);
    const nowhere = await cli('admin', 'api-keys', 'create', 'x', '--workspace', 'nowhere');
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.out, /Workspace "nowhere" not found/);

    const revoked = await cli('admin', 'api-keys', 'revoke', id);
    assert.match(revoked.stdout, new RegExp(`Revoked API key ${id}`));
    assert.match((await cli('admin', 'api-keys', 'list')).stdout, new RegExp(`${id}.*revoked`));
    assert.equal((await cli('admin', 'api-keys', 'revoke', 'AAAAAAAAAAAAAAAA')).code, 1);

    const set = await cli('admin', 'prices', 'set', 'search_contacts', '9');
    assert.equal(set.code, 0, set.out);
    const prices = (await cli('admin', 'prices', 'list')).stdout;
    assert.match(prices, /search_contacts\s+9 {2}\(set; own cost 1\)/);
    assert.match(prices, /check_credit_balance\s+0\n/);
    assert.equal((await cli('admin', 'prices', 'clear', 'search_contacts')).code, 0);
    assert.equal((await cli('admin', 'prices', 'clear', 'search_contacts')).code, 1);

    assert.match((await cli('admin', 'plans', 'set', 'gold', '5000', '500')).stdout, /Plan gold: 5,000 calls\/min per workspace, 500 per grant/);
    assert.match((await cli('admin', 'plans', 'set', 'pro', '900')).stdout, /Plan pro: 900/);
    const plans = (await cli('admin', 'plans', 'list')).stdout;
    assert.match(plans, /default\s+60 calls\/min .*\(configuration\)/);
    assert.match(plans, /gold\s+5,000 .*\(set as data\)/);
    assert.match(plans, /pro\s+900 .*\(set as data\)/);
    assert.match((await cli('admin', 'credits', 'plan', 'acme', 'gold')).stdout, /acme is now on plan gold/);
    assert.match((await cli('admin', 'plans', 'delete', 'pro')).stdout, /back to its configured limits/);
    assert.match((await cli('admin', 'plans', 'list')).stdout, /pro\s+600 .*\(configuration\)/);
    const configured = await cli('admin', 'plans', 'delete', 'default');
    assert.equal(configured.code, 1);
    assert.match(configured.stderr, /comes from the configuration/);
    assert.equal((await cli('admin', 'plans', 'set', 'Bad Name', '10')).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
