// The sign-in callback: an HTTP listener on 127.0.0.1 that receives the authorization response
// (RFC 8252 §7.3: loopback interface redirection; the literal IP, not "localhost", per §8.3).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CALLBACK_PATH = '/callback';

export interface CallbackListener {
  port: number;
  redirectUri: string;
  /** True when the preferred port was taken and another was used. */
  fellBack: boolean;
  /** The query parameters of the first callback that carries a code or an error. */
  result: Promise<URLSearchParams>;
  close(): Promise<void>;
}

export interface ListenOptions {
  port: number;
  /** Use any free port when `port` is taken (default true). */
  allowFallback?: boolean;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, text: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width"></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`
  );
}

function bind(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

export async function listenForCallback(options: ListenOptions): Promise<CallbackListener> {
  let settle!: (p: URLSearchParams) => void;
  const result = new Promise<URLSearchParams>((resolve) => (settle = resolve));
  let done = false;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, title: string, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', connection: 'close' });
      res.end(page(title, text));
    };
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return send(404, 'Not found', 'This is the Tollgate CLI sign-in callback.');
    const params = url.searchParams;
    if (!params.has('code') && !params.has('error')) return send(400, 'Nothing to do', 'This address expects the answer of a sign-in.');
    if (done) return send(200, 'Already done', 'The sign-in was already completed; you can close this tab.');
    done = true;
    if (params.has('error')) send(200, 'Sign-in failed', `The server answered: ${params.get('error_description') ?? params.get('error')}. Return to the terminal.`);
    else send(200, 'Signed in', 'You are signed in. You can close this tab and return to the terminal.');
    settle(params);
  });
  server.keepAliveTimeout = 1000;
  let port: number;
  let fellBack = false;
  try {
    port = await bind(server, options.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || options.allowFallback === false) throw err;
    port = await bind(server, 0);
    fellBack = true;
  }
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    fellBack,
    result,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A stable callback port for a server URL, in 20000–29999 (below the usual ephemeral range), so a client registered
 * with an exact redirect URI keeps matching from one sign-in to the next.
 */
export function stableCallbackPort(serverUrl: string): number {
  let h = 2166136261;
  for (const ch of serverUrl) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 20000 + (h % 10000);
}
