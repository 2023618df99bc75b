// Plans set the rate limits: calls per minute for the whole workspace and for each grant (one user's
// authorization of one client). `default` comes from `rateLimitPerMinute`; more come from `ratePlans`.
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';

export interface Plan {
  name: string;
  /** Tool calls per minute across the workspace. */
  workspacePerMinute: number;
  /** Tool calls per minute for each grant. */
  grantPerMinute: number;
}

export const DEFAULT_PLAN = 'default';
export const RATE_WINDOW_SECONDS = 60;

export const PLAN_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MAX_PER_MINUTE = 10_000_000;

/**
 * `ratePlans` is a comma-separated list of `name:perMinute` or `name:workspacePerMinute/grantPerMinute`,
 * e.g. `pro:600,scale:6000/600`. Throws ConfigError naming the setting.
 */
export function parsePlans(config: Pick<Config, 'rateLimitPerMinute' | 'ratePlans'>): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  plans.set(DEFAULT_PLAN, { name: DEFAULT_PLAN, workspacePerMinute: config.rateLimitPerMinute, grantPerMinute: config.rateLimitPerMinute });
  const fail = (why: string) => new ConfigError('ratePlans (TOLLGATE_RATE_PLANS)', why);
  for (const item of (config.ratePlans ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^:]+):(\d+)(?:\/(\d+))?$/.exec(item);
    if (!m) throw fail(`"${item.slice(0, 40)}" is not name:perMinute or name:workspacePerMinute/grantPerMinute`);
    const [, name, ws, grant] = m;
    if (!PLAN_NAME.test(name)) throw fail(`plan name "${name.slice(0, 40)}" must be lower-case letters, digits, - or _`);
    const workspacePerMinute = Number(ws);
    const grantPerMinute = grant === undefined ? workspacePerMinute : Number(grant);
    for (const n of [workspacePerMinute, grantPerMinute]) {
      if (n < 1 || n > MAX_PER_MINUTE) throw fail(`limits of plan "${name}" must be between 1 and ${MAX_PER_MINUTE}`);
    }
    plans.set(name, { name, workspacePerMinute, grantPerMinute });
  }
  return plans;
}
