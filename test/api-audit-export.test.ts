// Issue 19 §5 and §7 through the management API. The audit trail is exportable (GET /api/v1/audit, /audit.csv): who
// changed what, filtered by workspace, actor, action, target and time, paged by cursor; a key for one workspace sees
// that workspace's entries only. A company's backend provisions a customer: creates the workspace with its external
// id, invites the customer as owner (the invitation mail goes through a real SMTP server), grants credits; the
// customer accepts the mailed link and owns the workspace. On both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { linkIn, startTestSmtp, type TestSmtp } from './helpers/smtp.ts';
import { CookieJar, getPage, postForm } from './helpers/web-pages.ts';
import { parseForms } from './helpers/oauth-flow.ts';

forEachDialect('api: audit export and owner invitation', (dialect) => {
  let server: TestServer;
  let smtp: TestSmtp;
  let deployKey: string;
  let readKey: string;
  let scopedKey: string;
  before(async () => {
    smtp = await startTestSmtp();
    server = await startTestServer({ dialect, env: { TOLLGATE_INITIAL_CREDITS: '0', TOLLGATE_SMTP_URL: smtp.url, TOLLGATE_MAIL_FROM: 'Tollgate <tollgate@example.test>' } });
    deployKey = (await server.services.api.keys.createKey({ name: 'provisioning', access: 'write' })).secret;
    readKey = (await server.services.api.keys.createKey({ name: 'auditor', access: 'read' })).secret;
  });
  after(async () => {
    await server.stop();
    await smtp.close();
  });

  const call = (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  type Entry = { id: number; at: string; actor: { type: string; id: string | null; label: string | null }; action: string; target: { type: string; id: string }; workspace: string | null; before: unknown; after: unknown };
  const entries = async (key: string, query: string): Promise<{ status: number; data: Entry[]; next: string | null }> => {
    const r = await call(key, 'GET', `/audit?${query}`);
    const body = (await r.json()) as { data: Entry[]; next_cursor: string | null };
    return { status: r.status, data: body.data, next: body.next_cursor };
  };

  test('provisioning walk-through: workspace with external_id → owner invitation (mailed) → credits; the customer accepts and owns it', async () => {
    assert.equal((await call(deployKey, 'POST', '/workspaces', { slug: 'initech', name: 'Initech', external_id: 'cus_initech' })).status, 201);
    const invited = await call(deployKey, 'POST', '/workspaces/initech/invitations', { email: 'peter@initech.example', role: 'owner' });
    assert.equal(invited.status, 201, await invited.clone().text());
    const inv = (await invited.json()) as { id: string; url: string; mailed: boolean; role: string; state: string; mailed_at: string | null };
    assert.deepEqual([inv.role, inv.state, inv.mailed], ['owner', 'pending', true]);
    assert.ok(inv.mailed_at);
    const mail = await smtp.waitFor((m) => m.to.includes('peter@initech.example'));
    assert.match(mail.subject, /invited to Initech/);
    const link = linkIn(mail.text, '/invite');
    assert.equal(link.toString(), inv.url, 'the mailed link is the one returned once');
    // Inviting again replaces the open invitation; a member cannot be invited.
    assert.equal((await call(deployKey, 'POST', '/workspaces/initech/invitations', { email: 'peter@initech.example', role: 'superuser' })).status, 400);
    const grant = await call(deployKey, 'POST', '/workspaces/initech/credits/grants', { amount: 1000, reason: 'purchase' }, { 'idempotency-key': 'order-1' });
    assert.equal(grant.status, 201);

    const guest = new CookieJar();
    const page = await getPage(guest, link.toString());
    const form = parseForms(page.body, page.url).find((f) => f.action.endsWith('/invite/accept'))!;
    const joined = await postForm(guest, form.action, { ...form.fields, name: 'Peter', password: 'a good new password', password2: 'a good new password' });
    assert.equal(joined.status, 303);
    const ws = (await server.services.accounts.workspaces.getWorkspaceBySlug('initech'))!;
    const peter = (await server.services.accounts.users.findUserByEmail('peter@initech.example'))!;
    assert.equal(await server.services.accounts.workspaces.getRole(ws.id, peter.id), 'owner');
    assert.equal((await call(deployKey, 'POST', '/workspaces/initech/invitations', { email: 'peter@initech.example', role: 'admin' })).status, 409, 'already a member');
    const open = (await (await call(deployKey, 'GET', '/workspaces/initech/invitations')).json()) as { data: unknown[] };
    assert.deepEqual(open.data, [], 'the accepted invitation is no longer open');

    // The invitation is in the trail as the key's, without its link or token.
    const trail = await entries(readKey, 'workspace=initech&action=invitation.created');
    assert.equal(trail.data.length, 1);
    assert.deepEqual([trail.data[0].actor.type, trail.data[0].actor.label, trail.data[0].after], ['api_key', 'provisioning', { email: 'peter@initech.example', role: 'owner' }]);
    const csv = await (await call(readKey, 'GET', '/audit.csv?workspace=initech')).text();
    assert.ok(!csv.includes(new URL(inv.url).searchParams.get('token')!), 'no invitation token in the export');
  });

  test('who changed what: filters by workspace, actor, action prefix, target and time; cursor paging newest first', async () => {
    for (const [slug, ext] of [['hooli', 'cus_hooli'], ['pied', 'cus_pied']]) assert.equal((await call(deployKey, 'POST', '/workspaces', { slug, external_id: ext })).status, 201);
    for (let i = 1; i <= 3; i++) assert.equal((await call(deployKey, 'POST', '/workspaces/hooli/credits/grants', { amount: i }, { 'idempotency-key': `h${i}` })).status, 201);
    const hooli = (await server.services.accounts.workspaces.getWorkspaceBySlug('hooli'))!;

    const all = await entries(readKey, 'workspace=hooli');
    assert.equal(all.status, 200);
    assert.ok(all.data.every((e) => e.workspace === 'hooli'));
    const grants = await entries(readKey, 'workspace=hooli&action=credits.granted');
    assert.deepEqual(grants.data.map((e) => (e.after as { amount: number }).amount), [3, 2, 1], 'newest first, with before/after');
    assert.deepEqual(grants.data.map((e) => (e.before as { balance: number }).balance), [3, 1, 0]);
    assert.ok(grants.data.every((e) => e.actor.type === 'api_key' && e.target.id === hooli.id));

    // Paging: two pages of two, then one, with no overlap.
    const p1 = await entries(readKey, 'workspace=hooli&action=credits.&limit=2');
    assert.equal(p1.data.length, 2);
    const p2 = await entries(readKey, `workspace=hooli&action=credits.&limit=2&cursor=${p1.next}`);
    assert.deepEqual(p2.data.map((e) => e.id), [grants.data[2].id]);
    assert.equal(p2.next, null);

    const byActor = await entries(readKey, 'actor=provisioning&action=workspace.created');
    assert.deepEqual(byActor.data.map((e) => e.target.id).sort(), [hooli.id, (await server.services.accounts.workspaces.getWorkspaceBySlug('pied'))!.id, (await server.services.accounts.workspaces.getWorkspaceBySlug('initech'))!.id].sort());
    assert.deepEqual((await entries(readKey, 'actor=nobody')).data, []);
    assert.ok((await entries(readKey, `target_type=workspace&target_id=${hooli.id}`)).data.length >= 4);

    // Time range: since the newest grant's time includes it; until the oldest's excludes everything from it on.
    const newest = grants.data[0];
    const since = await entries(readKey, `workspace=hooli&action=credits.granted&since=${encodeURIComponent(newest.at)}`);
    assert.ok(since.data.some((e) => e.id === newest.id));
    const until = await entries(readKey, `workspace=hooli&action=credits.granted&until=${encodeURIComponent(grants.data[2].at)}`);
    assert.deepEqual(until.data, []);
    assert.equal((await entries(readKey, `since=${encodeURIComponent(newest.at)}&until=${encodeURIComponent(newest.at)}`)).status, 400);
    assert.equal((await call(readKey, 'GET', '/audit?cursor=bm90LWEtbnVtYmVy')).status, 400);
    assert.equal((await call(readKey, 'GET', '/audit?since=yesterday')).status, 400);
    assert.equal((await call(readKey, 'GET', '/audit?workspace=no-such-ws')).status, 404);

    const csv = await call(readKey, 'GET', '/audit.csv?workspace=hooli&action=credits.granted');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="audit-hooli\.csv"/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    assert.equal(lines.length, 4);
    assert.match(lines[1], new RegExp(`^${newest.id},${newest.at.replace(/[.]/g, '\\.')},api_key,[A-Za-z0-9]+,provisioning,credits\\.granted,workspace,${hooli.id},${hooli.id},hooli,"\\{""balance"":3\\}","\\{""balance"":6,""amount"":3,`));
  });

  test('a key for one workspace sees only that workspace\'s entries; another workspace is 403, whether or not it exists', async () => {
    const hooli = (await server.services.accounts.workspaces.getWorkspaceBySlug('hooli'))!;
    scopedKey = (await server.services.api.keys.createKey({ name: 'hooli reader', access: 'read', workspaceId: hooli.id })).secret;
    const mine = await entries(scopedKey, 'limit=200');
    assert.equal(mine.status, 200);
    assert.ok(mine.data.length >= 4);
    assert.ok(mine.data.every((e) => e.workspace === 'hooli'), 'no other workspace and no deployment-wide entry (API keys, …)');
    assert.ok(!mine.data.some((e) => e.action.startsWith('api_key.')));
    assert.deepEqual((await entries(scopedKey, 'workspace=hooli&action=credits.granted')).data.length, 3);
    assert.equal((await call(scopedKey, 'GET', '/audit?workspace=pied')).status, 403);
    assert.equal((await call(scopedKey, 'GET', '/audit?workspace=no-such-ws')).status, 403);
    assert.equal((await call(scopedKey, 'GET', '/audit.csv?workspace=pied')).status, 403);
    const csv = await (await call(scopedKey, 'GET', '/audit.csv')).text();
    assert.ok(!csv.includes(',pied,') && !csv.includes(',initech,'));
    // Read keys may read the trail, but never write through the invitation operation.
    assert.equal((await call(readKey, 'POST', '/workspaces/hooli/invitations', { email: 'x@hooli.example', role: 'owner' })).status, 403);
  });
});
