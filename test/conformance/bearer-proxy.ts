// A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request it forwards: lets a client that
// knows nothing of OAuth (the conformance suite) talk to an OAuth-protected MCP endpoint. Test-only.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BearerProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** `target` is read per request, so the proxy can start (and its origin be known) before the server it fronts. */
export async function startBearerProxy(target: () => string, token: () => string): Promise<BearerProxy> {
  const server: Server = createServer((req, res) => {
    const upstream = new URL(target());
    const headers = { ...req.headers };
    if (!headers.authorization) headers.authorization = `Bearer ${token()}`;
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
