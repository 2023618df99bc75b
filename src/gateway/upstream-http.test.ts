import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpConnection } from './upstream-http.ts';
import type { JsonRpcMessage } from './connection.ts';

/**
 * A Streamable HTTP server with a session and a GET stream: the first stream it gives ends at once (as a proxy's idle
 * timeout would end it), the second stays open and carries notifications/tools/list_changed.
 */
async function sessionServer(options: { offerStream: boolean }) {
  const gets: ServerResponse[] = [];
  let getCount = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      getCount++;
      if (!options.offerStream) return void res.writeHead(405).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      if (getCount === 1) return void res.end();
      gets.push(res);
      return;
    }
    if (req.method === 'DELETE') return void res.writeHead(200).end();
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const m = JSON.parse(body) as JsonRpcMessage;
      if (m.id === undefined) return void res.writeHead(202).end();
      const result = m.method === 'initialize' ? { protocolVersion: '2025-11-25', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 's', version: '1' } } : {};
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    gets: () => getCount,
    notify(m: JsonRpcMessage) {
      for (const g of gets) g.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
      return gets.length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const connect = (url: string) => httpConnection({ url, headers: {}, serviceHeaders: async () => ({ authorization: 'Bearer service' }), timeoutMs: 5000 });

test('the GET stream that carries list changes is opened again when it ends, and its notifications reach the listeners', async () => {
  const s = await sessionServer({ offerStream: true });
  const conn = connect(s.url);
  const heard: JsonRpcMessage[] = [];
  conn.onServerNotification((m) => heard.push(m));
  try {
    await conn.request('ping', undefined, { timeoutMs: 5000 });
    const deadline = Date.now() + 5000;
    while (s.gets() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.gets(), 2, 'the stream was opened again after it ended');
    // The reopened stream is live: a notification on it arrives.
    while (!s.notify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    while (!heard.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(heard.map((m) => m.method), ['notifications/tools/list_changed']);
  } finally {
    await conn.close();
    await s.close();
  }
});

test('an upstream that offers no GET stream (405) is not asked again', async () => {
  const s = await sessionServer({ offerStream: false });
  const conn = connect(s.url);
  try {
    await conn.request('ping', undefined, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.gets(), 1);
  } finally {
    await conn.close();
    await s.close();
  }
});
