import { test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { TOO_LARGE } from './endpoint.ts';
import { readNodeBody } from './node-adapter.ts';

/** A server that reads each request's body with readNodeBody (after `delayMs`), and answers what it read and how. */
async function withServer(delayMs: number, fn: (port: number) => Promise<void>): Promise<void> {
  const server = http.createServer((req: IncomingMessage, res) => {
    setTimeout(async () => {
      const complete = req.complete;
      const body = await readNodeBody(req, req.headers['content-length'], 16);
      // Read at once from the stream's buffer, a complete request never switches to flowing mode.
      res.end(JSON.stringify({ body: body === TOO_LARGE ? 'TOO_LARGE' : body, complete, flowing: req.readableFlowing }));
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}

/** Sends raw bytes (in parts, `gapMs` apart) and returns the answer's body. */
function raw(port: number, parts: (string | Buffer)[], gapMs = 0): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d;
      const at = text.indexOf('\r\n\r\n');
      if (at >= 0 && /\}$/.test(text)) {
        resolve(JSON.parse(text.slice(text.indexOf('{', at))));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    void (async () => {
      for (const p of parts) {
        socket.write(p);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

const head = (extra: string) => `POST / HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;

test('a body that came with its headers is taken from the buffer at once; a BOM is dropped', async () => {
  await withServer(20, async (port) => {
    assert.deepEqual(await raw(port, [`${head('content-length: 5\r\n')}hello`]), { body: 'hello', complete: true, flowing: null });
    const bom = Buffer.concat([Buffer.from(head('content-length: 5\r\n')), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('ab')]);
    assert.equal((await raw(port, [bom])).body, 'ab');
  });
});

test('a chunked body over the limit is refused whether it is already buffered or still arriving', async () => {
  const chunked = [head('transfer-encoding: chunked\r\n'), '8\r\n12345678\r\n', '8\r\n12345678\r\n', '1\r\n9\r\n', '0\r\n\r\n'];
  await withServer(20, async (port) => assert.deepEqual(await raw(port, [chunked.join('')]), { body: 'TOO_LARGE', complete: true, flowing: null }));
  await withServer(0, async (port) => assert.equal((await raw(port, chunked, 15)).body, 'TOO_LARGE'));
});

test('a body still arriving is read as it streams in', async () => {
  await withServer(0, async (port) => {
    const r = await raw(port, [head('content-length: 10\r\n'), '01234', '56789'], 15);
    assert.deepEqual(r, { body: '0123456789', complete: false, flowing: true });
  });
});
