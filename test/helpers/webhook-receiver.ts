// A real HTTP receiver for outbound webhooks on a loopback port: records each delivery (headers and raw body) and
// answers with the status a test scripts (default 200), or holds the request unanswered.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedEvent {
  readonly path: string;
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

export interface Receiver {
  readonly url: string;
  readonly received: ReceivedEvent[];
  /** Decides each answer: a status, or 'hold' (never answered; the request stays open). */
  respond: (event: ReceivedEvent, req: IncomingMessage) => number | 'hold';
  /** Resolves once `predicate` holds for what was received (polls every 20 ms). */
  waitFor(predicate: (received: ReceivedEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const held: ServerResponse[] = [];
  const receiver: Receiver = {
    url: '',
    received: [],
    respond: () => 200,
    async waitFor(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(receiver.received)) {
        if (Date.now() > until) throw new Error(`timed out; received: ${JSON.stringify(receiver.received.map((e) => [e.path, e.type, e.id]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: { type?: string; data?: Record<string, unknown> } = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // recorded as is
      }
      const event: ReceivedEvent = {
        path: req.url ?? '', id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']),
        body, type: parsed.type ?? '', data: parsed.data ?? {},
      };
      receiver.received.push(event);
      const answer = receiver.respond(event, req);
      if (answer === 'hold') held.push(res);
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  Object.assign(receiver, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return receiver;
}
