// The credits module's HTTP endpoints (the dashboard pages that show credits live in the web module).
import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { mountCreditsWebhook, type CreditsWebhookDeps } from './webhook.ts';

export type CreditsHttpDeps = CreditsWebhookDeps;

export function mountCredits(app: Hono<AppEnv>, deps: CreditsHttpDeps): void {
  mountCreditsWebhook(app, deps);
}
