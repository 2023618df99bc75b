// Requirements (issue 18 §4): `tollgate admin invite <workspace> <email> [--role …]` prints the single-use link once
// and mails it through a real SMTP server; `admin invite list` and `admin invite revoke`; bad input gets a clear
// error. `admin user reset-two-factor` turns a locked-out user's second factor off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.ts';
import { linkIn, startTestSmtp } from './helpers/smtp.ts';
import { loadConfig } from '../src/config/config.ts';
import { openServices } from '../src/services.ts';
import { createLogger } from '../src/util/logger.ts';

test('admin invite: link printed once and mailed; list; revoke; errors', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-invite-cli-'));
  const smtp = await startTestSmtp();
  const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_SMTP_URL: smtp.url, TOLLGATE_PUBLIC_URL: 'https://auth.example.com' };
  try {
    // The database, an owner and a workspace, made in-process (each CLI run is a process start).
    const setup = await openServices(loadConfig({ env }), createLogger('silent'));
    const owner = await setup.accounts.users.createUser({ email: 'owner@example.com', password: 'long enough pw' });
    const ws = await setup.createWorkspace({ slug: 'acme', ownerUserId: owner.id });
    await setup.close();

    const invited = await runCli(['admin', 'invite', 'acme', 'Newbie@example.com', '--role', 'admin'], { env });
    assert.equal(invited.code, 0, invited.stderr);
    assert.match(invited.stdout, /Invited Newbie@example\.com to acme as admin/);
    const printed = /Link: (\S+)/.exec(invited.stdout)![1];
    assert.match(printed, /^https:\/\/auth\.example\.com\/invite\?token=[\w-]{43}$/);
    assert.match(invited.stdout, /Mailed to Newbie@example\.com/);
    const mail = await smtp.waitFor((m) => m.to.includes('Newbie@example.com'));
    assert.equal(linkIn(mail.text, '/invite').toString(), printed);

    const list = await runCli(['admin', 'invite', 'list', 'acme'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Newbie@example\.com\s+admin\s+pending/);
    assert.ok(!list.stdout.includes(new URL(printed).searchParams.get('token')!), 'the list never shows the link');
    const id = /^(\S{36})\s+Newbie/m.exec(list.stdout)![1];

    for (const [args, pattern] of [
      [['admin', 'invite', 'acme', 'x@example.com', '--role', 'king'], /--role must be one of/],
      [['admin', 'invite', 'nope', 'x@example.com'], /Workspace "nope" not found/],
      [['admin', 'invite', 'acme', 'owner@example.com'], /already a member/],
      [['admin', 'invite', 'revoke', 'acme', 'no-such-id'], /No open invitation/],
    ] as const) {
      const r = await runCli([...args], { env });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    const revoked = await runCli(['admin', 'invite', 'revoke', 'acme', id], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = await openServices(loadConfig({ env }), createLogger('silent'), { migrate: false, create: false });
    try {
      assert.deepEqual(await after.invitations.listOpenInvitations(ws.id), [], 'revoked');
    } finally {
      await after.close();
    }
    const reset = await runCli(['admin', 'user', 'reset-two-factor', 'owner@example.com'], { env });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /had no two-factor sign-in/);
  } finally {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
