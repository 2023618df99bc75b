// Requirement (foundation): a start that fails part-way (here: a tool whose schema does not compile) releases the
// port and the database instead of leaving them open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startTestServer } from './helpers/server.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test('a tool definition that does not compile stops the start and frees the port', async () => {
  const port = await freePort();
  const broken: ToolDefinition = {
    name: 'broken',
    description: 'its input schema is not a schema',
    inputSchema: { type: 'object', properties: { x: { type: 'no-such-type' } } },
    scope: 'mcp:read',
    cost: 0,
    handler: async () => ({ content: [] }),
  };
  await assert.rejects(startTestServer({ env: { TOLLGATE_PORT: String(port) }, extraTools: [broken] }));
  // The port is free again: a second server starts on it.
  const srv = await startTestServer({ env: { TOLLGATE_PORT: String(port) } });
  assert.equal(srv.port, port);
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
  await srv.stop();
});
