// Requirement (issue 17 §1): `tollgate upstream add | list | tools | price | remove` on the configured database;
// secrets given in headers or env are sealed and never printed back; bad input refused with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, runCli } from './helpers/cli.ts';

const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

test('operators add, list, price and remove upstreams; secrets never shown', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-upstream-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir };
  const all = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;
  try {
    assert.equal((await runCli(['migrate'], { env })).code, 0);

    const add = await runCli(['upstream', 'add', 'everything', '--command', `"${process.execPath}" ${EVERYTHING} stdio`, '--env', 'SECRET_TOKEN=tok-never-shown', '--price', '2'], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /Added upstream everything: stdio: .* \(env: SECRET_TOKEN\), 2 credit\(s\) per call by default\./);
    assert.match(add.stdout, /It lists 1\d tool\(s\)/);

    // An unreachable upstream is still added (a server retries); the shared secret is not echoed.
    const http = await runCli(['upstream', 'add', 'crm', '--url', 'http://127.0.0.1:9/mcp', '--header', 'X-Api-Key: sk-never-shown', '--timeout', '2000'], { env });
    assert.equal(http.code, 0, http.stderr);
    assert.match(http.stderr, /could not list its tools now/);

    const list = await runCli(['upstream', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /crm +http +0 +1 +2000 ms +http:\/\/127\.0\.0\.1:9\/mcp \(headers: X-Api-Key\)/);
    assert.match(list.stdout, /everything +stdio +1\d +2 +default/);

    const tools = await runCli(['upstream', 'tools', 'everything'], { env });
    assert.equal(tools.code, 0, tools.stderr);
    assert.match(tools.stdout, /get-sum +everything__get-sum +2 \(default\) +mcp:read \(from readOnlyHint\)/);

    const price = await runCli(['upstream', 'price', 'everything', 'get-sum', '5', '--scope', 'write'], { env });
    assert.equal(price.code, 0, price.stderr);
    const defaultPrice = await runCli(['upstream', 'price', 'everything', '*', '0'], { env });
    assert.equal(defaultPrice.code, 0, defaultPrice.stderr);
    const after = await runCli(['upstream', 'tools', 'everything'], { env });
    assert.match(after.stdout, /get-sum +everything__get-sum +5 +mcp:write\n/);
    assert.match(after.stdout, /echo +everything__echo +0 \(default\)/);

    // Refusals: Authorization is Tollgate's (the forwarded JWT), both transports at once, a bad name, an unknown tool.
    const auth = await runCli(['upstream', 'add', 'x', '--url', 'https://h/mcp', '--header', 'Authorization: Bearer sk-never-shown'], { env });
    assert.equal(auth.code, 1);
    assert.match(auth.stderr, /carries the forwarded JWT/);
    const both = await runCli(['upstream', 'add', 'x', '--url', 'https://h/mcp', '--command', 'node'], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exactly one of --url/);
    const badName = await runCli(['upstream', 'add', 'Bad_Name', '--url', 'https://h/mcp'], { env });
    assert.equal(badName.code, 1);
    const unknownTool = await runCli(['upstream', 'price', 'everything', 'nosuch', '1'], { env });
    assert.equal(unknownTool.code, 1);
    assert.match(unknownTool.stderr, /has no tool named nosuch/);

    const remove = await runCli(['upstream', 'remove', 'crm'], { env });
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal((await runCli(['upstream', 'remove', 'crm'], { env })).code, 1);
    assert.doesNotMatch((await runCli(['upstream', 'list'], { env })).stdout, /crm/);

    for (const r of [add, http, list, tools, price, after, auth]) assert.ok(!/sk-never-shown|tok-never-shown/.test(all(r)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
