// Requirements (issue 18 §4, §5): invitations by email from the members page — a single-use link with an expiry,
// shown once to the inviter and mailed through a real SMTP server; accepting signs a new person up with a password
// or lets an existing account join; used, expired, withdrawn and unknown links get a clear page; members cannot
// invite, admins cannot make owners; forms without their CSRF token are refused. Self-service password reset: the
// same answer (and similar timing) whether or not the address exists, a single-use short-lived link read from the
// received message, every session of the account ended. No token or SMTP password in the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { startTestSmtp, linkIn, type TestSmtp } from './helpers/smtp.ts';
import { CookieJar, csrfOf, getPage, postForm, signIn, submit, textOf } from './helpers/web-pages.ts';
import { parseForms } from './helpers/oauth-flow.ts';
import { invitationsService, passwordResetsService } from '../src/accounts/index.ts';

describe('invitations and password reset by email', () => {
  let srv: TestServer;
  let smtp: TestSmtp;
  let owner: CookieJar;

  before(async () => {
    smtp = await startTestSmtp();
    srv = await startTestServer({ env: { TOLLGATE_SMTP_URL: smtp.url, TOLLGATE_MAIL_FROM: 'Acme Tollgate <tollgate@acme.test>' } });
    const { users } = srv.services.accounts;
    const ownerUser = (await users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp', ownerUserId: ownerUser.id });
    await users.createUser({ email: 'memo@example.com', password: 'member password 1' });
    await users.createUser({ email: 'adam@example.com', password: 'admin password 1' });
    await srv.services.accounts.workspaces.addMember('acme', 'memo@example.com', 'member');
    await srv.services.accounts.workspaces.addMember('acme', 'adam@example.com', 'admin');
    owner = await signIn(srv.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  after(async () => {
    await srv?.stop();
    await smtp?.close();
  });

  const members = () => `${srv.url}/dashboard/acme/members`;
  const invite = (jar: CookieJar, email: string, role = 'member') => submit(jar, members(), '/dashboard/acme/invitations', { email, role });

  test('an owner invites a new person: the link is shown once and mailed; it signs them up with the role, once', async () => {
    const page = await invite(owner, 'newbie@example.com', 'admin');
    assert.equal(page.status, 200);
    const text = textOf(page.body);
    assert.match(text, /Invitation mailed to newbie@example\.com/);
    const shown = /<code class="url" id="invite-link">([\s\S]*?)<\/code>/.exec(page.body)![1].replace(/<[^>]+>/g, '').replace(/&amp;/g, '&');
    const mail = await smtp.waitFor((m) => m.to.includes('newbie@example.com'));
    assert.equal(mail.from, 'tollgate@acme.test');
    assert.match(mail.subject, /invited to Acme Corp/);
    const link = linkIn(mail.text, '/invite');
    assert.equal(link.toString(), shown, 'the mailed link is the one shown to the inviter');
    assert.match(link.searchParams.get('token')!, /^[\w-]{43}$/);
    // The list shows the open invitation, without its link.
    const list = await getPage(owner, members());
    assert.match(textOf(list.body), /newbie@example\.com by owner@example\.com Admin/);
    assert.ok(!list.body.includes(link.searchParams.get('token')!), 'the link is shown only once');

    const guest = new CookieJar();
    const invitePage = await getPage(guest, link.toString());
    assert.equal(invitePage.status, 200);
    assert.match(textOf(invitePage.body), /invited newbie@example\.com to the workspace Acme Corp acme as Admin/);
    const form = parseForms(invitePage.body, invitePage.url).find((f) => f.action.endsWith('/invite/accept'))!;
    // Refusals first: no CSRF token, a foreign one, mismatched or short passwords.
    assert.equal((await postForm(guest, form.action, { ...form.fields, csrf_token: '', password: 'a good new password', password2: 'a good new password' })).status, 403);
    assert.equal((await postForm(new CookieJar(), form.action, { ...form.fields, password: 'a good new password', password2: 'a good new password' })).status, 403);
    const differ = await postForm(guest, form.action, { ...form.fields, password: 'a good new password', password2: 'another password!' });
    assert.equal(differ.status, 400);
    assert.match(textOf(differ.body), /The two passwords differ/);
    const short = await postForm(guest, form.action, { ...form.fields, password: 'short', password2: 'short' });
    assert.equal(short.status, 400);
    assert.match(textOf(short.body), /at least 10 characters/);

    const joined = await postForm(guest, form.action, { ...form.fields, name: 'New Bie', password: 'a good new password', password2: 'a good new password' });
    assert.equal(joined.status, 303);
    assert.equal(new URL(joined.location!).pathname, '/dashboard/acme');
    assert.equal((await getPage(guest, `${srv.url}/dashboard/acme`)).status, 200, 'signed in and a member');
    const user = (await srv.services.accounts.users.findUserByEmail('newbie@example.com'))!;
    assert.equal(user.name, 'New Bie');
    assert.equal(user.emailVerified, true, 'the link reached that mailbox');
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('acme'))!;
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, user.id), 'admin');
    // The audit trail: the owner created it, the new account accepted it; never the link's token.
    const trail = (await srv.services.audit.list({ action: 'invitation.', workspaceId: ws.id })).records.filter((r) => (r.after as { email?: string } | null)?.email === 'newbie@example.com' || r.actor.id === user.id);
    assert.deepEqual(trail.map((r) => [r.action, r.actor.label]), [['invitation.accepted', 'newbie@example.com'], ['invitation.created', 'owner@example.com']]);
    assert.deepEqual(trail[0].after, { user_id: user.id, role: 'admin', signed_up: true });
    assert.ok(!JSON.stringify(trail).includes(link.searchParams.get('token')!));

    // Used: the same link again, signed out or in.
    const again = await getPage(new CookieJar(), link.toString());
    assert.equal(again.status, 410);
    assert.match(textOf(again.body), /Invitation already used/);
    const replay = await postForm(guest, form.action, { ...form.fields, password: 'a good new password', password2: 'a good new password' });
    assert.equal(replay.status, 403, 'the pre-session token no longer fits the signed-in browser');
    const replaySignedIn = await postForm(guest, form.action, { csrf_token: csrfOf(await getPage(guest, `${srv.url}/`)), token: form.fields.token });
    assert.equal(replaySignedIn.status, 410);
  });

  test('an existing account signs in to accept and joins as itself', async () => {
    await srv.services.accounts.users.createUser({ email: 'existing@example.com', password: 'existing password 1' });
    await invite(owner, 'existing@example.com');
    const link = linkIn((await smtp.waitFor((m) => m.to.includes('existing@example.com'))).text, '/invite');
    const jar = new CookieJar();
    const page = await getPage(jar, link.toString());
    assert.match(textOf(page.body), /An account with this address already exists/);
    const signInHref = /href="(\/login\?next=[^"]+)"/.exec(page.body)![1].replace(/&amp;/g, '&');
    assert.equal(new URL(signInHref, srv.url).searchParams.get('next'), `${link.pathname}${link.search}`);
    await signIn(srv.url, 'existing@example.com', 'existing password 1', jar);
    const signedIn = await getPage(jar, link.toString());
    assert.match(textOf(signedIn.body), /You are signed in as existing@example\.com/);
    const accepted = await submit(jar, link.toString(), '/invite/accept', { token: link.searchParams.get('token')! });
    assert.equal(accepted.status, 303);
    assert.equal((await getPage(jar, `${srv.url}/dashboard/acme`)).status, 200);
    const existing = (await srv.services.accounts.users.findUserByEmail('existing@example.com'))!;
    const accept = (await srv.services.audit.list({ action: 'invitation.accepted' })).records.find((r) => r.actor.id === existing.id);
    assert.equal(accept?.actor.label, 'existing@example.com');
    assert.deepEqual(accept?.after, { user_id: existing.id, role: 'member', already_member: false });
  });

  test('revoked, expired and unknown links each get a clear page; nothing is created', async () => {
    await invite(owner, 'revoked@example.com');
    const link = linkIn((await smtp.waitFor((m) => m.to.includes('revoked@example.com'))).text, '/invite');
    const list = await getPage(owner, members());
    const revoke = parseForms(list.body, list.url).find((f) => /\/invitations\/[^/]+\/revoke$/.test(f.action) && list.body.includes('revoked@example.com'))!;
    const revoked = await postForm(owner, revoke.action, revoke.fields);
    assert.equal(revoked.status, 303);
    assert.match(revoked.location!, /done=invite-revoked/);
    const page = await getPage(new CookieJar(), link.toString());
    assert.equal(page.status, 410);
    assert.match(textOf(page.body), /Invitation withdrawn/);

    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('acme'))!;
    const expired = await invitationsService(srv.services.store, { invitationTtlSeconds: -1 }).createInvitation({ workspace: ws, email: 'late@example.com', role: 'member' });
    const late = await getPage(new CookieJar(), `${srv.url}/invite?token=${expired.token}`);
    assert.equal(late.status, 410);
    assert.match(textOf(late.body), /Invitation expired/);

    for (const token of ['', 'x', 'A'.repeat(43), 'A'.repeat(500)]) {
      const r = await getPage(new CookieJar(), `${srv.url}/invite?token=${token}`);
      assert.equal(r.status, 404, token);
      assert.match(textOf(r.body), /Invitation not found/);
    }
    assert.equal(await srv.services.accounts.users.findUserByEmail('revoked@example.com'), undefined);
    const revokedRecord = (await srv.services.audit.list({ action: 'invitation.revoked', workspaceId: ws.id })).records;
    assert.equal(revokedRecord.length, 1);
    assert.equal(revokedRecord[0].actor.label, 'owner@example.com');
  });

  test('members cannot invite, admins cannot make owners, already-members and bad addresses are refused, CSRF is checked', async () => {
    const memo = await signIn(srv.url, 'memo@example.com', 'member password 1');
    const asMember = await invite(memo, 'friend@example.com');
    assert.equal(asMember.status, 403);
    assert.ok(!(await getPage(memo, members())).body.includes('Invite by email'), 'members see no invite form');
    const adam = await signIn(srv.url, 'adam@example.com', 'admin password 1');
    const ownerByAdmin = await invite(adam, 'boss@example.com', 'owner');
    assert.equal(ownerByAdmin.status, 400);
    assert.match(textOf(ownerByAdmin.body), /Only owners can invite owners/);
    assert.equal((await invite(adam, 'colleague@example.com', 'admin')).status, 200, 'an admin invites admins and members');
    const dup = await invite(owner, 'MEMO@example.com');
    assert.equal(dup.status, 400);
    assert.match(textOf(dup.body), /already a member/);
    assert.equal((await invite(owner, 'not an address')).status, 400);
    const noCsrf = await postForm(owner, `${srv.url}/dashboard/acme/invitations`, { email: 'csrf@example.com', role: 'member' });
    assert.equal(noCsrf.status, 403);
    const stranger = await signIn(srv.url, 'existing@example.com', 'existing password 1');
    await srv.services.accounts.workspaces.removeMember('acme', 'existing@example.com');
    assert.equal((await submit(stranger, `${srv.url}/`, '/dashboard/acme/invitations', { email: 'x@example.com', role: 'member' })).status, 404, 'non-members get the 404 of a missing workspace');
    assert.ok(!smtp.messages.some((m) => m.to.includes('friend@example.com') || m.to.includes('boss@example.com') || m.to.includes('csrf@example.com')));
  });

  test('password reset: the same answer for known and unknown addresses, in similar time; the mailed link works once and ends every session', async () => {
    await srv.services.accounts.users.createUser({ email: 'forgetful@example.com', password: 'the old password' });
    const otherDevice = await signIn(srv.url, 'forgetful@example.com', 'the old password');
    const login = await getPage(new CookieJar(), `${srv.url}/login`);
    assert.match(login.body, /href="\/password-reset"/);

    const ask = async (email: string) => {
      const jar = new CookieJar();
      const started = performance.now();
      const r = await submit(jar, `${srv.url}/password-reset`, '/password-reset', { email });
      return { r, ms: performance.now() - started };
    };
    // A slow mail server: were the answer to wait for the mail, a known address would answer seconds later.
    smtp.setDelay(1500);
    const known = await ask('forgetful@example.com');
    const unknown = await ask('nobody-here@example.com');
    assert.equal(known.r.status, 200);
    assert.equal(unknown.r.status, 200);
    const answer = (body: string, email: string) => textOf(body).replace(email, '<email>').replace(/Request id: \S+/, '');
    assert.equal(answer(known.r.body, 'forgetful@example.com'), answer(unknown.r.body, 'nobody-here@example.com'));
    assert.match(textOf(known.r.body), /If an account uses forgetful@example\.com ?, we have sent it a link/);

    // Timing: medians of a few more requests each (different addresses, so no per-address limit applies).
    const times = { known: [known.ms], unknown: [unknown.ms] };
    for (let i = 0; i < 4; i++) {
      const email = `timing-${i}@example.com`;
      await srv.services.accounts.users.createUser({ email, password: 'long enough password' });
      times.known.push((await ask(email)).ms);
      times.unknown.push((await ask(`ghost-${i}@example.com`)).ms);
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [mk, mu] = [median(times.known), median(times.unknown)];
    assert.ok(mk < 1200 && Math.abs(mk - mu) < 600, `known ${mk.toFixed(1)} ms vs unknown ${mu.toFixed(1)} ms (the mail server takes 1500 ms)`);
    smtp.setDelay(0);

    const mail = await smtp.waitFor((m) => m.to.includes('forgetful@example.com'));
    assert.equal(mail.subject, 'Reset your Tollgate password');
    await smtp.waitFor((m) => m.to.includes('timing-3@example.com'));
    assert.ok(!smtp.messages.some((m) => m.to.some((t) => t.startsWith('ghost-') || t.startsWith('nobody-here'))), 'nothing is mailed to unknown addresses');
    const link = linkIn(mail.text, '/password-reset/confirm');

    const jar = new CookieJar();
    const choose = await getPage(jar, link.toString());
    assert.equal(choose.status, 200);
    assert.match(textOf(choose.body), /For forgetful@example\.com/);
    const form = parseForms(choose.body, choose.url).find((f) => f.action.endsWith('/password-reset/confirm'))!;
    assert.equal((await postForm(jar, form.action, { ...form.fields, csrf_token: 'forged', password: 'the new password!', password2: 'the new password!' })).status, 403);
    assert.equal((await postForm(jar, form.action, { ...form.fields, password: 'the new password!', password2: 'different password' })).status, 400);
    const done = await postForm(jar, form.action, { ...form.fields, password: 'the new password!', password2: 'the new password!' });
    assert.equal(done.status, 200);
    assert.match(textOf(done.body), /Your password is changed/);
    assert.equal((await getPage(otherDevice, `${srv.url}/`)).status, 303, 'the other device was signed out');
    await signIn(srv.url, 'forgetful@example.com', 'the new password!');
    await assert.rejects(signIn(srv.url, 'forgetful@example.com', 'the old password'));
    const reused = await postForm(jar, form.action, { ...form.fields, password: 'a third password', password2: 'a third password' });
    assert.equal(reused.status, 410);
    assert.match(textOf(reused.body), /already been used/);
    assert.equal((await getPage(new CookieJar(), link.toString())).status, 410);

    const expired = await passwordResetsService(srv.services.store, { passwordResetTtlSeconds: -1 }).requestReset('forgetful@example.com');
    const old = await getPage(new CookieJar(), `${srv.url}/password-reset/confirm?token=${expired!.token}`);
    assert.equal(old.status, 410);
    assert.match(textOf(old.body), /expired/);
    assert.equal((await getPage(new CookieJar(), `${srv.url}/password-reset/confirm?token=forged`)).status, 404);
    assert.equal((await postForm(new CookieJar(), `${srv.url}/password-reset`, { email: 'forgetful@example.com' })).status, 403, 'no CSRF token');
  });

  test('an address gets at most a few reset mails per window; the answer stays the same', async () => {
    await srv.services.accounts.users.createUser({ email: 'spammed@example.com', password: 'long enough password' });
    for (let i = 0; i < 5; i++) {
      const r = await submit(new CookieJar(), `${srv.url}/password-reset`, '/password-reset', { email: 'spammed@example.com' });
      assert.equal(r.status, 200);
    }
    // Mail goes out after the answer: wait for the third (on a loaded machine it can take a while), then a little
    // longer, so that a fourth would have arrived too.
    const sent = () => smtp.messages.filter((m) => m.to.includes('spammed@example.com')).length;
    for (const deadline = Date.now() + 15_000; sent() < 3 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sent(), 3);
  });

  test('the log holds no invitation or reset token and no SMTP password', () => {
    const log = srv.logs.join('\n');
    assert.match(log, /invitation_created/);
    assert.match(log, /password_reset_requested/);
    for (const m of smtp.messages) {
      for (const u of m.text.matchAll(/token=([\w-]+)/g)) assert.ok(!log.includes(u[1]), 'a token reached the log');
    }
    assert.ok(!log.includes(smtp.password) && !log.includes(encodeURIComponent(smtp.password)));
  });
});
