// The credits module's HTTP endpoints (the dashboard pages that show credits live in the web module).
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Services } from '../services.ts';
import { mountCreditsWebhook } from './webhook.ts';

export function mountCredits(app: Hono<AppEnv>, services: Services): void {
  mountCreditsWebhook(app, services);
}
