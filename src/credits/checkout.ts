// Where a workspace buys credits: the configured checkout URL template (e.g. a Stripe Payment Link,
// `https://buy.stripe.com/…?client_reference_id={workspace}`) with the workspace's slug and external id filled in,
// else the fixed buy-credits URL, else the workspace's dashboard. The dashboard's "Buy credits" button, the
// out-of-credits tool error and `check_credit_balance` all quote this one link.
import { ConfigError } from '../config/config.ts';

export const CHECKOUT_PLACEHOLDERS = ['{workspace}', '{external_id}'] as const;

export interface CheckoutWorkspace {
  readonly slug: string;
  readonly externalId: string | null;
}

/** Fills `{workspace}` and `{external_id}` (each URL-encoded, so a value can never add a parameter or a path). */
export function fillCheckoutTemplate(template: string, ws: CheckoutWorkspace): string {
  return template.replaceAll('{workspace}', encodeURIComponent(ws.slug)).replaceAll('{external_id}', encodeURIComponent(ws.externalId ?? ''));
}

/** Refuses, at start, a template that is not an http(s) URL once filled in. */
export function validateCheckoutTemplate(template: string): void {
  let u: URL;
  try {
    u = new URL(fillCheckoutTemplate(template, { slug: 'workspace', externalId: 'external-id' }));
  } catch {
    throw new ConfigError('checkoutUrlTemplate (TOLLGATE_CHECKOUT_URL_TEMPLATE)', 'expected an absolute http(s) URL, with {workspace} and {external_id} as placeholders');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError('checkoutUrlTemplate (TOLLGATE_CHECKOUT_URL_TEMPLATE)', 'expected an http(s) URL');
}

export interface CheckoutConfig {
  readonly checkoutUrlTemplate?: string | null;
  readonly buyCreditsUrl?: string | null;
  readonly publicUrl: string;
}

/** The link for one workspace (its record in hand: the dashboard). */
export function checkoutUrl(config: CheckoutConfig, ws: CheckoutWorkspace): string {
  if (config.checkoutUrlTemplate) return fillCheckoutTemplate(config.checkoutUrlTemplate, ws);
  return config.buyCreditsUrl ?? `${config.publicUrl}/dashboard/${encodeURIComponent(ws.slug)}`;
}

export interface CheckoutWorkspaceLookup {
  getWorkspace(id: string): Promise<{ slug: string; externalId: string | null } | undefined>;
}

/**
 * The link for a tool call's workspace. Only a template with `{external_id}` needs the workspace record; it is read
 * then (the out-of-credits answer and `check_credit_balance`, never the paid hot path).
 */
export function checkoutLinks(config: CheckoutConfig, workspaces: CheckoutWorkspaceLookup | undefined) {
  if (config.checkoutUrlTemplate) validateCheckoutTemplate(config.checkoutUrlTemplate);
  const needsRecord = !!config.checkoutUrlTemplate?.includes('{external_id}');
  return async (ctx: { workspaceId: string; workspaceSlug: string }): Promise<string> => {
    if (!needsRecord || !workspaces) return checkoutUrl(config, { slug: ctx.workspaceSlug, externalId: null });
    const ws = await workspaces.getWorkspace(ctx.workspaceId);
    return checkoutUrl(config, { slug: ctx.workspaceSlug, externalId: ws?.externalId ?? null });
  };
}
