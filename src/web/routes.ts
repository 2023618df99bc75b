// Server-rendered pages.
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Services } from '../services.ts';

export function mountWeb(app: Hono<AppEnv>, _services: Services): void {
  app.get('/', (c) =>
    c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tollgate</title></head>` +
        `<body><h1>Tollgate</h1><p>OAuth-protected, credit-metered MCP servers.</p><p><a href="/login">Sign in</a></p></body></html>`,
    ),
  );
}
