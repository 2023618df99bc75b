// The authorization server's HTTP endpoints.
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Services } from '../services.ts';

export function mountOAuth(app: Hono<AppEnv>, services: Services): void {
  app.get('/.well-known/jwks.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await services.oauth.keys.jwks());
  });
}
